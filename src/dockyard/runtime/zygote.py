"""The shim fork-server: one interpreter with the shim pre-imported, forking every shim.

A fresh `python -I -S` plus the shim's imports costs 25-30 ms per task on this host;
forking a process that has already imported `dockyard.runtime.shim` costs about 1 ms
(docs/decisions/0081-startup.md). ShimRuntime starts the server on first use and talks
to it over a SOCK_SEQPACKET socketpair, one message each way per shim:

    request:  {"state_dir": str, "log": str}   plus the ready pipe's write end (SCM_RIGHTS)
    reply:    {"ok": true}  once the shim is forked, or {"error": str}

Each shim is forked once, leads a session of its own with stderr on `log`, and runs
`shim.main`; it reports on the ready pipe itself. The server ignores SIGCHLD, so the
kernel reaps the shims that end before it does; those still running when it exits (it
does when its socket reaches EOF: the daemon closed it, or died) are reparented and live
on. gc.freeze() keeps the collector from dirtying the pages each shim shares with it. The
device program for Docker's default device rules is loaded once here (devicebpf.preload),
so no shim pays the eBPF verifier for it, and the cgroup hierarchies are found once
(shim.preload), so no shim reads the whole mount table for them.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import socket

from dockyard.runtime import shim
from dockyard.runtime.cgroups import devicebpf, devices

TYPE_CHECKING = False  # typing costs the shim milliseconds at start-up
if TYPE_CHECKING:
    from typing import NoReturn

MAX_MESSAGE = 65536


def serve(fd: int) -> None:
    """Entry point of the server process: fork one shim per request until EOF."""
    control = socket.socket(fileno=fd)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:  # the shims inherit the loaded program (a cgroup v2 host attaches it to each task)
        devicebpf.preload(list(devices.DEFAULT_RULES))
    except OSError:  # no bpf(2) here: each shim loads what it needs, or has no v2 to attach to
        pass
    try:
        shim.preload()
    except OSError:  # each shim finds the hierarchies itself, and reports what fails
        pass
    gc.freeze()
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, MAX_MESSAGE, 1)
        except ConnectionResetError:
            return
        if not message:
            return
        if len(fds) != 1:
            _close_all(fds)
            control.send(json.dumps({"error": "expected one ready fd"}).encode())
            continue
        control.send(json.dumps(_fork_shim(control, json.loads(message), fds[0])).encode())


def _fork_shim(control: socket.socket, request: dict, ready_fd: int) -> dict:
    """Fork one shim; it reports on ready_fd, which the server closes on its side."""
    try:
        pid = os.fork()
    except OSError as exc:
        os.close(ready_fd)
        return {"error": f"fork: {exc.strerror}"}
    if pid == 0:
        _child(control, request, ready_fd)
    os.close(ready_fd)
    return {"ok": True}


def _child(control: socket.socket, request: dict, ready_fd: int) -> NoReturn:
    """Become a session leader with the shim's stdio and signals, then run the shim (never returns)."""
    try:
        control.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # ignored, it would lose the exit status
        os.setsid()
        with open("/proc/self/comm", "w") as comm:  # ps shows the shim by name, not as the server
            comm.write("dockyard-shim")
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        os.dup2(log, 2)
        os.close(log)
        shim.main([request["state_dir"], str(ready_fd)])
    except BaseException as exc:
        os.write(2, f"shim: {exc!r}\n".encode())
    finally:
        os._exit(1)


def _close_all(fds: list[int]) -> None:
    for fd in fds:
        os.close(fd)

"""The shim fork-server: one interpreter with the shim pre-imported, forking every shim.

A fresh `python -I -S` plus the shim's imports costs 25-30 ms per task on this host;
forking a process that has already imported `dockyard.runtime.shim` costs about 1 ms
(docs/decisions/0081-startup.md). ShimRuntime starts the server on first use and talks
to it over a SOCK_SEQPACKET socketpair, one message each way per shim:

    request:  {"state_dir": str, "log": str}   plus the ready pipe's write end (SCM_RIGHTS)
    reply:    {"ok": true}  once the shim is forked or the spare has the request, or {"error": str}

Each shim is forked once, leads a session of its own with stderr on `log`, and runs
`shim.main`; it reports on the ready pipe itself. Once no request has come for SPARE_AFTER
seconds, the server forks the next shim ahead: that spare does the fork's own work (the
child's first 1-1.5 ms here: the interpreter's after-fork handlers, the first writes to
pages it shares with the server, a session of its own) and waits on a socketpair, and the
next request is handed to it, so `docker run` waits for none of that. A spare whose
server has gone sees EOF and exits. The server ignores SIGCHLD, so the
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
import select
import signal
import socket

from dockyard.runtime import shim
from dockyard.runtime.cgroups import devicebpf, devices

TYPE_CHECKING = False  # typing costs the shim milliseconds at start-up
if TYPE_CHECKING:
    from typing import NoReturn

MAX_MESSAGE = 65536
SPARE_AFTER = 0.05  # seconds without a request before the next shim is forked ahead


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
    spare: socket.socket | None = None  # our end of the spare shim's socketpair
    want_spare = True  # not again after a failed fork (no memory, pids.max) until a request
    while True:
        if spare is None and want_spare and not select.select([control], [], [], SPARE_AFTER)[0]:
            spare = _fork_spare(control)
            want_spare = spare is not None
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
        handed = spare is not None and _hand_over(spare, message, fds[0])
        if spare is not None:
            spare.close()  # before any fork: no shim holds it
            spare = None
        reply = {"ok": True} if handed else _fork_shim(control, json.loads(message), fds[0])
        os.close(fds[0])
        want_spare = True
        control.send(json.dumps(reply).encode())


def _fork_shim(control: socket.socket, request: dict, ready_fd: int) -> dict:
    """Fork one shim now; it reports on ready_fd (the server closes its own copy)."""
    try:
        pid = os.fork()
    except OSError as exc:
        return {"error": f"fork: {exc.strerror}"}
    if pid == 0:
        _become_shim(control)
        _run(request, ready_fd)
    return {"ok": True}


def _fork_spare(control: socket.socket) -> socket.socket | None:
    """Fork a shim ahead of its request; our end of its socketpair, or None if that failed."""
    try:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    except OSError:  # out of fds: the next request forks its shim
        return None
    try:
        pid = os.fork()
    except OSError:
        ours.close()
        theirs.close()
        return None
    if pid == 0:
        _spare(control, ours, theirs)
    theirs.close()
    return ours


def _spare(control: socket.socket, ours: socket.socket, theirs: socket.socket) -> NoReturn:
    """The spare shim: wait for a request on `theirs`, then run it; exit at EOF (never returns)."""
    try:
        ours.close()
        _become_shim(control)
        message, fds, _, _ = socket.recv_fds(theirs, MAX_MESSAGE, 1)
        theirs.close()
        if not message or len(fds) != 1:  # the server has gone: nothing to run
            os._exit(0)
        request = json.loads(message)
    except BaseException as exc:  # never back into the server's loop
        os.write(2, f"shim: {exc!r}\n".encode())
        os._exit(1)
    _run(request, fds[0])


def _hand_over(spare: socket.socket, message: bytes, ready_fd: int) -> bool:
    """Give a request to the spare shim; False if it is gone (then a shim is forked instead)."""
    try:
        socket.send_fds(spare, [message], [ready_fd])
    except OSError:
        return False
    return True


def _become_shim(control: socket.socket) -> None:
    """In a just-forked child: drop the server's socket, take the shim's signals and a
    session of its own. A failure ends the child: the request then finds no shim."""
    try:
        control.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # ignored, it would lose the exit status
        os.setsid()
        with open("/proc/self/comm", "w") as comm:  # ps shows the shim by name, not as the server
            comm.write("dockyard-shim")
    except BaseException as exc:
        os.write(2, f"shim: {exc!r}\n".encode())
        os._exit(1)


def _run(request: dict, ready_fd: int) -> NoReturn:
    """Put stderr on the shim's log and run the shim (never returns)."""
    try:
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

"""The shim fork-server: one interpreter with the shim pre-imported, forking every shim.

A fresh `python -I -S` plus the shim's imports costs 25-30 ms per task on this host;
forking a process that has already imported `dockyard.runtime.shim` costs about 1 ms
(docs/decisions/0042-startup.md). ShimRuntime starts the server on first use and talks
to it over a SOCK_SEQPACKET socketpair, one message each way per shim:

    request:  {"state_dir": str, "log": str}   plus the ready pipe's write end (SCM_RIGHTS)
    reply:    {"ok": true}  once the shim is forked and detached, or {"error": str}

The server forks a child that becomes a session leader with stderr on `log`, then runs
`shim.main`, which forks again and exits: the shim is reparented away from both the
server and the daemon, so it outlives them. The server reaps that short-lived child and
exits when its socket reaches EOF, that is when the daemon closes it or dies.
"""

from __future__ import annotations

import json
import os
import socket

from dockyard.runtime import shim

TYPE_CHECKING = False   # typing costs the shim milliseconds at start-up
if TYPE_CHECKING:
    from typing import NoReturn

MAX_MESSAGE = 65536


def serve(fd: int) -> None:
    """Entry point of the server process: fork one shim per request until EOF."""
    control = socket.socket(fileno=fd)
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
    """Fork the detaching child; reap it once the shim is on its own."""
    try:
        pid = os.fork()
    except OSError as exc:
        os.close(ready_fd)
        return {"error": f"fork: {exc.strerror}"}
    if pid == 0:
        _child(control, request, ready_fd)
    os.close(ready_fd)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return {"ok": True} if code == 0 else {"error": f"shim exited with {code} while detaching"}


def _child(control: socket.socket, request: dict, ready_fd: int) -> NoReturn:
    """Become the shim's session leader with the shim's stdio, then run it (never returns)."""
    try:
        control.close()
        os.setsid()
        with open("/proc/self/comm", "w") as comm:   # ps shows the shim by name, not as the server
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

"""The shim fork-server: one interpreter with the shim pre-imported, forking every shim.

A fresh `python -I -S` plus the shim's imports costs 25-30 ms per task on this host;
forking a process that has already imported `dockyard.runtime.shim` costs about 1 ms
(docs/decisions/0081-startup.md). ShimRuntime starts the server on first use and talks
to it over a SOCK_SEQPACKET socketpair, one message each way per shim:

    request:  {"state_dir": str, "log": str}   plus the ready pipe's write end and, for a task
              started at once with an attacher, its socket (SCM_RIGHTS)
    reply:    {"ok": true}  once the shim is forked or the spare has the request, or {"error": str}
    request:  {"prepare": state_dir}   make that task's sandbox once idle (sandbox.py); no reply
    request:  {"drop": state_dir}      discard it
    reply:    {"ok": true}  once it has gone (or DROP_TIMEOUT has passed)

Each shim is forked once, leads a session of its own with stderr on `log`, and runs
`shim.main`; it reports on the ready pipe itself. Once no request has come for SPARE_AFTER
seconds, the server forks the next shim ahead: that spare does the fork's own work (the
child's first 1-1.5 ms here: the interpreter's after-fork handlers, the first writes to
pages it shares with the server, a session of its own) and waits on a socketpair, and the
next request is handed to it, so `docker run` waits for none of that. A sandbox asked for
is made by the spare at the next idle moment (so never while the client of the container
just created waits), and the spare holding it is handed that state dir's request; at most
MAX_PREPARED are held, each for SANDBOX_TTL. A spare whose server has gone (or that is told
to drop its sandbox) sees EOF, discards its sandbox and exits. The server ignores SIGCHLD, so the
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
import time

from dockyard.runtime import sandbox, shim
from dockyard.runtime.cgroups import devicebpf, devices

TYPE_CHECKING = False  # typing costs the shim milliseconds at start-up
if TYPE_CHECKING:
    from typing import NoReturn

MAX_MESSAGE = 65536
SPARE_AFTER = 0.05  # seconds without a request before the next shim is forked ahead
SANDBOX_TTL = 60.0  # seconds a sandbox waits for its task before it is dropped
MAX_PREPARED = 2  # sandboxes held at once: a created container's and the next one's
DROP_TIMEOUT = 2.0  # seconds a drop waits for the spare to have removed its sandbox


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
    _Server(control).run()


class _Prepared:
    """A spare shim holding a sandbox (sandbox.py) for one state dir, until a deadline."""

    __slots__ = ("sock", "state_dir", "until")

    def __init__(self, sock: socket.socket, state_dir: str, until: float) -> None:
        self.sock, self.state_dir, self.until = sock, state_dir, until


class _Server:
    """The server's loop and what it holds: a plain spare shim, the state dirs whose sandbox
    is asked for and not yet made, and the spares holding one (at most MAX_PREPARED)."""

    def __init__(self, control: socket.socket) -> None:
        self.control = control
        self.spare: socket.socket | None = None  # our end of the spare shim's socketpair
        self.want_spare = True  # not again after a failed fork (no memory, pids.max) until a request
        self.pending: list[str] = []  # sandboxes asked for, made once the server idles
        self.prepared: dict[str, _Prepared] = {}
        self.last_request = time.monotonic()

    def run(self) -> None:
        """Serve requests until EOF; idle, fork the spare, then make the sandboxes asked for."""
        while True:
            self._expire()
            watched = [self.control, *(p.sock for p in self.prepared.values())]
            ready = select.select(watched, [], [], self._idle_wait())[0]
            for sock in ready:
                if sock is not self.control:
                    self._lost(sock)
            if self.control not in ready:
                if time.monotonic() - self.last_request >= SPARE_AFTER:
                    self._idle()
                continue
            try:
                message, fds, _, _ = socket.recv_fds(self.control, MAX_MESSAGE, 2)
            except ConnectionResetError:
                return
            if not message:
                return
            self.last_request = time.monotonic()
            request = json.loads(message)
            if "prepare" in request or "drop" in request:
                _close_all(fds)
                self._note(request)
                if "drop" in request:  # a prepare is a hint: the daemon does not wait for it
                    self.control.send(b'{"ok": true}')
            elif len(fds) not in (1, 2):
                _close_all(fds)
                self.control.send(json.dumps({"error": "expected the ready fd (and an attacher's)"}).encode())
            else:
                reply = self._spawn(request, message, fds)
                _close_all(fds)
                self.control.send(json.dumps(reply).encode())

    def _idle_wait(self) -> float | None:
        """Seconds until there is idle work (a spare, a sandbox, an expiry); None: none."""
        now = time.monotonic()
        waits = [p.until - now for p in self.prepared.values()]
        if (self.spare is None and self.want_spare) or (self.pending and self.spare is not None):
            waits.append(self.last_request + SPARE_AFTER - now)
        return max(0.0, min(waits)) if waits else None

    def _idle(self) -> None:
        """No request for SPARE_AFTER: fork the spare, or have it make the next sandbox."""
        if self.spare is None and self.want_spare:
            self.spare = _fork_spare(self.control, self._held())
            self.want_spare = self.spare is not None
        elif self.pending and self.spare is not None:
            state_dir = self.pending.pop(0)
            if _send(self.spare, json.dumps({"prepare": state_dir}).encode()):
                self.prepared[state_dir] = _Prepared(self.spare, state_dir, time.monotonic() + SANDBOX_TTL)
            else:
                self.spare.close()
            self.spare = None
            while len(self.prepared) > MAX_PREPARED:  # at idle: waiting for it delays no request
                _drop(self.prepared.pop(next(iter(self.prepared))), wait=True)

    def _expire(self) -> None:
        """Drop the sandboxes unused for SANDBOX_TTL (waiting, so none is gone half while its
        state dir's next shim makes the same cgroups)."""
        now = time.monotonic()
        for state_dir in [d for d, p in self.prepared.items() if p.until < now]:
            _drop(self.prepared.pop(state_dir), wait=True)

    def _lost(self, sock: socket.socket) -> None:
        """A spare holding a sandbox has died (it never writes): remove what it left, the
        cgroups (its child dies with it: PR_SET_PDEATHSIG)."""
        state_dir = next(d for d, p in self.prepared.items() if p.sock is sock)
        del self.prepared[state_dir]
        sock.close()
        sandbox.forget(state_dir, shim.hierarchies())

    def _note(self, request: dict) -> None:
        """A sandbox asked for (made at the next idle), or one to drop (gone when we answer)."""
        if "prepare" in request:
            if request["prepare"] not in self.pending and request["prepare"] not in self.prepared:
                self.pending = [*self.pending, request["prepare"]][-MAX_PREPARED:]
            return
        if request["drop"] in self.pending:
            self.pending.remove(request["drop"])
        if request["drop"] in self.prepared:
            _drop(self.prepared.pop(request["drop"]), wait=True)

    def _spawn(self, request: dict, message: bytes, fds: list[int]) -> dict:
        """Hand the request to the spare holding its sandbox, else to the plain spare, else fork."""
        state_dir = request.get("state_dir")
        if state_dir in self.pending:
            self.pending.remove(state_dir)
        self.want_spare = True
        prepared = self.prepared.pop(state_dir, None)
        if prepared is not None:
            handed = _send(prepared.sock, message, *fds)
            prepared.sock.close()
            if handed:
                return {"ok": True}
            sandbox.forget(state_dir, shim.hierarchies())  # that spare has died
        if self.spare is not None:
            spare, self.spare = self.spare, None
            handed = _send(spare, message, *fds)
            spare.close()  # before any fork: no shim holds it
            if handed:
                return {"ok": True}
        return _fork_shim(self.control, self._held(), request, fds)

    def _held(self) -> list[socket.socket]:
        """The sockets of the spares holding sandboxes, which a forked child must close."""
        return [p.sock for p in self.prepared.values()]


def _drop(prepared: _Prepared, wait: bool) -> None:
    """Tell the spare to discard its sandbox and exit; with `wait`, until it has (its end closes)."""
    try:
        prepared.sock.shutdown(socket.SHUT_WR)
        if wait:
            prepared.sock.settimeout(DROP_TIMEOUT)
            while prepared.sock.recv(64):
                pass
    except OSError:  # gone already, or slow: it exits on its own
        pass
    prepared.sock.close()


def _fork_shim(control: socket.socket, held: list[socket.socket], request: dict, fds: list[int]) -> dict:
    """Fork one shim now with the request's fds (the server closes its own copies). `held`: the
    server's other sockets, which the shim closes (a spare sees EOF only once all are closed)."""
    try:
        pid = os.fork()
    except OSError as exc:
        return {"error": f"fork: {exc.strerror}"}
    if pid == 0:
        _become_shim(control, held)
        _run(request, fds)
    return {"ok": True}


def _fork_spare(control: socket.socket, held: list[socket.socket]) -> socket.socket | None:
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
        _spare(control, [ours, *held], theirs)
    theirs.close()
    return ours


def _spare(control: socket.socket, held: list[socket.socket], theirs: socket.socket) -> NoReturn:
    """The spare shim: wait for a request on `theirs` (a sandbox to make first, maybe), then run
    it; at EOF discard the sandbox and exit (never returns)."""
    try:
        _become_shim(control, held)
        while True:
            message, fds, _, _ = socket.recv_fds(theirs, MAX_MESSAGE, 2)
            request = json.loads(message) if message else {}
            if "prepare" in request and not fds:
                shim.prepare(request["prepare"])
                continue
            break
        if not message or len(fds) not in (1, 2):  # the server has gone, or dropped the sandbox
            shim.discard_prepared()
            os._exit(0)  # our end closes only now: a drop waits for it
        theirs.close()
    except BaseException as exc:  # never back into the server's loop
        os.write(2, f"shim: {exc!r}\n".encode())
        shim.discard_prepared()
        os._exit(1)
    _run(request, fds)


def _send(spare: socket.socket, message: bytes, *fds: int) -> bool:
    """Give a message (a request with its fds, or a sandbox to make) to a spare shim;
    False if it is gone (a request's shim is then forked instead)."""
    try:
        socket.send_fds(spare, [message], list(fds))
    except OSError:
        return False
    return True


def _become_shim(control: socket.socket, held: list[socket.socket]) -> None:
    """In a just-forked child: drop the server's sockets, take the shim's signals and a
    session of its own. A failure ends the child: the request then finds no shim."""
    try:
        control.close()
        for sock in held:
            sock.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # ignored, it would lose the exit status
        os.setsid()
        with open("/proc/self/comm", "w") as comm:  # ps shows the shim by name, not as the server
            comm.write("dockyard-shim")
    except BaseException as exc:
        os.write(2, f"shim: {exc!r}\n".encode())
        os._exit(1)


def _run(request: dict, fds: list[int]) -> NoReturn:
    """Put stderr on the shim's log and run the shim (never returns)."""
    try:
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        os.dup2(log, 2)
        os.close(log)
        shim.main([request["state_dir"], *map(str, fds)])
    except BaseException as exc:
        os.write(2, f"shim: {exc!r}\n".encode())
    finally:
        os._exit(1)


def _close_all(fds: list[int]) -> None:
    for fd in fds:
        os.close(fd)

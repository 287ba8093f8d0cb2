"""The shim's event loop: one process's stdio, its attachers, its log, its exit.

Control protocol on shim.sock: the client sends one JSON line `{"op": ...}` and gets one
JSON line back. Ops: state, start, kill{signal}, resize{height,width}, wait (answered at
exit), shutdown (kills; answered once the exit is recorded and the task's cgroups released),
attach{stdin,stdout,stderr}. After the reply to attach the connection
carries the stream: output to the client (8-byte frames, or raw with a TTY), stdin from
it; EOF from a stdin attacher closes the process's stdin when stdin_once is set. A socket
the daemon handed over with the task (adopt(), for an exec started at once) is such a stream
from the first byte, with no request line and no reply.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import selectors
import signal
import socket
import struct
import termios
import time

from dockyard.multiplex import encode_frame
from dockyard.runtime.logfile import JsonFileWriter
from dockyard.timestamps import now_rfc3339

TYPE_CHECKING = False  # typing costs the shim milliseconds at start-up
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

DRAIN_AFTER_EXIT = 2.0  # seconds to wait for output EOF once the process is reaped
HIGH_WATER = 1 << 20  # stop reading the process while an attacher is this far behind
STREAM_IDS = {"stdout": 1, "stderr": 2}


class Client:
    """One connection: a request line, then maybe an attach stream."""

    __slots__ = ("sock", "inbuf", "out", "attached", "streams", "stdin", "reading", "closing")

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.inbuf, self.out = sock, bytearray(), bytearray()
        self.attached, self.streams, self.stdin = False, set(), False
        self.reading, self.closing = True, False


class Supervisor:
    """Owns the child's fds and every client until the exit is recorded."""

    def __init__(
        self,
        listener: socket.socket,
        pid: int,
        child_fds: dict[str, Any],
        tty: bool,
        stdin_once: bool,
        log: JsonFileWriter | None,
        start: Callable[[], str | None],
        on_exit: Callable[[], None],
        release: Callable[[], None],
    ) -> None:
        self.sel = selectors.DefaultSelector()
        self.listener, self.pid, self.tty, self.stdin_once = listener, pid, tty, stdin_once
        self.log, self.start = log, start  # start(): the process's exec error, if any
        self.on_exit, self.release = on_exit, release  # record the exit; then, once answered, free what it held
        self.outputs: dict[int, str] = dict(child_fds["outputs"])
        self.stdin_fd: int | None = child_fds["stdin"]
        self.master: int | None = child_fds.get("master")
        self.stdin_buf, self.stdin_closing = bytearray(), False
        self.clients: dict[int, Client] = {}
        self.waiters: list[Client] = []
        self.shutdowns: list[Client] = []  # answered only once release() has run
        self.status, self.started_at, self.finished_at = "created", None, None
        self.exit_code: int | None = None
        self.oom_killed = False
        self.reaped_at: float | None = None
        self.finalized = False
        self.paused = False

    # ---- set-up and loop -------------------------------------------------------------

    def run(self, wakeup_fd: int) -> None:
        """Serve until the exit is recorded and every client has been flushed."""
        self.sel.register(self.listener, selectors.EVENT_READ, self._on_accept)
        self.sel.register(wakeup_fd, selectors.EVENT_READ, lambda m: self._on_signal(wakeup_fd))
        for fd in set(self.outputs) | ({self.stdin_fd} - {None}):
            os.set_blocking(fd, False)
            self._update_process_fd(fd)
        while not (self.finalized and not self.clients):
            for key, mask in self.sel.select(self._timeout()):
                key.data(mask)
            self._check_exit()

    def _timeout(self) -> float | None:
        if self.reaped_at is None or self.finalized:
            return None
        return max(0.0, self.reaped_at + DRAIN_AFTER_EXIT - time.monotonic())

    def _update_process_fd(self, fd: int) -> None:
        reading = fd in self.outputs and not self.paused
        events = (selectors.EVENT_READ if reading else 0) | (
            selectors.EVENT_WRITE if fd == self.stdin_fd and self.stdin_buf else 0
        )
        try:
            self.sel.unregister(fd)
        except KeyError:
            pass
        if events:
            self.sel.register(fd, events, lambda mask, fd=fd: self._on_process_fd(fd, mask))

    # ---- the process ---------------------------------------------------------------------

    def _on_process_fd(self, fd: int, mask: int) -> None:
        if mask & selectors.EVENT_WRITE:
            self._flush_stdin()
        if mask & selectors.EVENT_READ and fd in self.outputs:
            self._read_output(fd)

    def _read_output(self, fd: int) -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError as exc:  # EIO: the pty slave side is gone
            if exc.errno != errno.EIO:
                raise
            data = b""
        if not data:
            self._close_output(fd)
            return
        stream = self.outputs[fd]
        if self.log is not None:
            self.log.write(stream, data)
        for client in list(self.clients.values()):
            if client.attached and stream in client.streams:
                self._send(client, data if self.tty else encode_frame(STREAM_IDS[stream], data))
        self._flow_control()

    def _flow_control(self) -> None:
        """Pause reading the process while an attacher lags HIGH_WATER bytes; resume after."""
        behind = any(len(c.out) > HIGH_WATER for c in self.clients.values() if c.attached)
        if behind != self.paused:
            self.paused = behind
            for fd in list(self.outputs):
                self._update_process_fd(fd)

    def _close_output(self, fd: int) -> None:
        del self.outputs[fd]
        if fd == self.stdin_fd:
            self.stdin_fd = None
        self._update_process_fd(fd)
        os.close(fd)

    def _flush_stdin(self) -> None:
        fd = self.stdin_fd
        if fd is None:
            self.stdin_buf.clear()
            return
        try:
            written = os.write(fd, self.stdin_buf) if self.stdin_buf else 0
            del self.stdin_buf[:written]
        except BlockingIOError:
            pass
        except OSError:  # EPIPE: the process closed its stdin
            self.stdin_buf.clear()
        if not self.stdin_buf and self.stdin_closing and fd != self.master:
            self.stdin_fd = None
            self._update_process_fd(fd)
            os.close(fd)
            return
        self._update_process_fd(fd)

    def _on_signal(self, wakeup_fd: int) -> None:
        try:
            os.read(wakeup_fd, 512)
        except BlockingIOError:
            pass
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.pid:
                code = os.waitstatus_to_exitcode(status)
                self.exit_code = code if code >= 0 else 128 - code
                self.finished_at = now_rfc3339()
                self.reaped_at = time.monotonic()

    def _check_exit(self) -> None:
        if self.reaped_at is None or self.finalized:
            return
        if self.outputs and time.monotonic() < self.reaped_at + DRAIN_AFTER_EXIT:
            return
        for fd in list(self.outputs):
            self._close_output(fd)
        self._finalize()

    def _finalize(self) -> None:
        self.status, self.finalized = "stopped", True
        if self.log is not None:
            self.log.close()
        self.on_exit()
        waiters, self.waiters = self.waiters, []
        for client in waiters:  # replying drops the client, so not while iterating self.waiters
            self._reply(client, self._state())
        for client in list(self.clients.values()):
            if client.attached:
                client.closing = True
                self._send(client, b"")
        # after the waiters' answers and the attachers' EOF, which `docker run` waits for; a
        # shutdown (the daemon's delete, before it makes a new task here) only after it
        self.release()
        shutdowns, self.shutdowns = self.shutdowns, []
        for client in shutdowns:
            self._reply(client, self._state())

    # ---- clients -----------------------------------------------------------------------

    def _on_accept(self, mask: int) -> None:
        self._add(self.listener.accept()[0])

    def adopt(self, sock: socket.socket, request: dict[str, Any]) -> None:
        """An attacher handed over with the task (no request line, no reply): attached at once."""
        self._attach(self._add(sock), request)

    def _add(self, sock: socket.socket) -> Client:
        sock.setblocking(False)
        client = Client(sock)
        self.clients[sock.fileno()] = client
        self.sel.register(sock, selectors.EVENT_READ, lambda m, c=client: self._on_client(c, m))
        return client

    def _on_client(self, client: Client, mask: int) -> None:
        if mask & selectors.EVENT_WRITE:
            self._send(client, b"")
        if mask & selectors.EVENT_READ and client.sock.fileno() in self.clients:
            self._receive(client)

    def _receive(self, client: Client) -> None:
        try:
            data = client.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if client.attached:
            self._attacher_input(client, data)
            return
        if not data:
            self._drop(client)
            return
        client.inbuf += data
        if b"\n" in client.inbuf:
            line, _, rest = bytes(client.inbuf).partition(b"\n")
            client.inbuf = bytearray(rest)
            self._handle(client, json.loads(line))

    def _attacher_input(self, client: Client, data: bytes) -> None:
        if data and client.stdin:
            self.stdin_buf += data
            self._flush_stdin()
            return
        if data:
            return
        client.reading = False
        self._watch(client)
        if client.stdin and self.stdin_once:
            self.stdin_closing = True
            self._flush_stdin()

    def _send(self, client: Client, data: bytes) -> None:
        client.out += data
        try:
            sent = client.sock.send(client.out) if client.out else 0
            del client.out[:sent]
        except BlockingIOError:
            pass
        except OSError:
            self._drop(client)
            return
        if client.closing and not client.out:
            self._drop(client)
            return
        self._watch(client)
        if self.paused and len(client.out) <= HIGH_WATER:
            self._flow_control()

    def _watch(self, client: Client) -> None:
        events = (selectors.EVENT_READ if client.reading else 0) | (selectors.EVENT_WRITE if client.out else 0)
        try:
            self.sel.unregister(client.sock)
        except KeyError:
            pass
        if events:
            self.sel.register(client.sock, events, lambda m, c=client: self._on_client(c, m))

    def _drop(self, client: Client) -> None:
        fd = client.sock.fileno()
        if self.clients.pop(fd, None) is None:
            return
        try:
            self.sel.unregister(client.sock)
        except (KeyError, ValueError):
            pass
        for queue in (self.waiters, self.shutdowns):
            if client in queue:
                queue.remove(client)
        client.sock.close()
        if self.paused:
            self._flow_control()

    def _reply(self, client: Client, message: dict[str, Any]) -> None:
        client.closing = not client.attached
        self._send(client, json.dumps(message).encode() + b"\n")

    # ---- requests ----------------------------------------------------------------------

    def _handle(self, client: Client, request: dict[str, Any]) -> None:
        op = request.get("op")
        handler = getattr(self, f"_op_{op}", None)
        if handler is None:
            self._reply(client, {"error": f"unknown op {op!r}"})
            return
        try:
            handler(client, request)
        except OSError as exc:
            self._reply(client, {"error": exc.strerror or str(exc)})

    def _state(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "pid": None if self.finalized else self.pid,
            "exit_code": self.exit_code if self.finalized else None,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "oom_killed": self.oom_killed,
        }

    def _op_state(self, client: Client, request: dict[str, Any]) -> None:
        self._reply(client, self._state())

    def begin(self) -> dict[str, Any]:
        """Let the process exec (the start op, or at once after ready): the answer to give."""
        if self.status != "created" or self.reaped_at is not None:
            return {"error": f"cannot start a task in state {self._visible_status()}"}
        self.status, self.started_at = "running", now_rfc3339()
        error = self.start()
        return {"error": error} if error else {"ok": True, "started_at": self.started_at}

    def _op_start(self, client: Client, request: dict[str, Any]) -> None:
        self._reply(client, self.begin())

    def _visible_status(self) -> str:
        return "stopped" if self.reaped_at is not None else self.status

    def _op_kill(self, client: Client, request: dict[str, Any]) -> None:
        if self.reaped_at is not None:
            self._reply(client, {"error": "process already finished", "kind": "not_running"})
            return
        os.kill(self.pid, int(request["signal"]))
        self._reply(client, {"ok": True})

    def _op_resize(self, client: Client, request: dict[str, Any]) -> None:
        if self.master is not None and self.master in self.outputs:
            size = struct.pack("HHHH", int(request["height"]), int(request["width"]), 0, 0)
            fcntl.ioctl(self.master, termios.TIOCSWINSZ, size)
        self._reply(client, {"ok": True})

    def _op_wait(self, client: Client, request: dict[str, Any]) -> None:
        if self.finalized:
            self._reply(client, self._state())
        else:
            self.waiters.append(client)

    def _op_shutdown(self, client: Client, request: dict[str, Any]) -> None:
        if self.reaped_at is None:
            os.kill(self.pid, signal.SIGKILL)
        if self.finalized:  # released too: _finalize runs release() before it returns
            self._reply(client, self._state())
        else:
            self.shutdowns.append(client)

    def _op_attach(self, client: Client, request: dict[str, Any]) -> None:
        client.attached = True  # before the reply, which then leaves the connection open
        self._reply(client, {"ok": True})
        self._attach(client, request)

    def _attach(self, client: Client, request: dict[str, Any]) -> None:
        client.streams = {s for s in ("stdout", "stderr") if request.get(s)}
        client.stdin = bool(request.get("stdin")) and self.stdin_fd is not None
        client.attached = True
        if self.finalized:
            client.closing = True
            self._send(client, b"")

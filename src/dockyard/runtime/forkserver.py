"""The daemon's side of the shim fork-server (zygote.py): one pre-imported process that forks
a shim per task, started on first use and restarted if it has gone."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
from pathlib import Path

HANDSHAKE_TIMEOUT = 30.0  # seconds a shim or the fork-server may take to answer a request
SRC_DIR = str(Path(__file__).resolve().parents[2])
BOOTSTRAP = (
    "import sys;sys.path.insert(0,sys.argv[1]);from dockyard.runtime.zygote import serve;serve(int(sys.argv[2]))"
)


class Zygote:
    """The client of the shim fork-server (zygote.py), started on first use, restarted if gone."""

    def __init__(self, python: str) -> None:
        self.python = python
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._proc: subprocess.Popen | None = None
        self._hint: str | None = None  # the state dir of the last prepare asked before the server ran

    def spawn(self, state_dir: Path, fds: list[int]) -> str | None:
        """Have a shim forked for state_dir with `fds`: it reports on the first and takes the
        second, if any, as an attacher. None, or why it was not."""
        request = {"state_dir": str(state_dir), "log": str(state_dir / "shim.log")}
        return self._ask(request, fds, start=True)

    def prepare(self, state_dir: Path) -> None:
        """Have the task for state_dir made ahead (sandbox.py): a hint, sent without waiting
        for the server (it answers none), or kept for the server's start if none runs yet."""
        with self._lock:
            if self._sock is None:
                self._hint = str(state_dir)
                return
            try:
                self._sock.send(_prepare_message(str(state_dir)))
            except OSError:  # the server has gone: the next spawn starts another
                pass

    def drop(self, state_dir: Path) -> None:
        """Discard what prepare() made for state_dir, if still unused; returns once it is gone
        (or the server's DROP_TIMEOUT has passed)."""
        with self._lock:
            if self._hint == str(state_dir):
                self._hint = None
        self._ask({"drop": str(state_dir)}, [], start=False)

    def _ask(self, request: dict, fds: list[int], start: bool) -> str | None:
        """One request and its reply; with `start`, the server is started (again) if need be."""
        message = json.dumps(request).encode()
        with self._lock:
            for attempt in (0, 1):
                if self._sock is None and not start:
                    return None
                try:
                    sock = self._sock or self._start()
                    if self._hint is not None:  # first, so its sandbox is made at the next idle
                        sock.send(_prepare_message(self._hint))
                        self._hint = None
                    socket.send_fds(sock, [message], fds)
                except OSError as exc:  # no server (any more): nothing was forked, start a new one
                    self._stop()
                    if attempt or not start:
                        return f"cannot start the shim fork-server: {exc}"
                    continue
                try:
                    sock.settimeout(HANDSHAKE_TIMEOUT)
                    reply = json.loads(sock.recv(4096) or b"{}")
                except OSError:  # gone, or wedged past the timeout: start afresh next time
                    reply = {}
                if not reply:
                    self._stop()
                    return "the shim fork-server exited or did not answer"
                return reply.get("error")
        raise AssertionError("unreachable")

    def _start(self) -> socket.socket:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with theirs:
            self._proc = subprocess.Popen(
                [self.python, "-I", "-S", "-c", BOOTSTRAP, SRC_DIR, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                start_new_session=True,
                cwd="/",
            )
        self._sock = ours
        return ours

    def _stop(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._proc is not None:
            try:
                self._proc.wait(timeout=5)  # it exits at EOF on its socket
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None

    def close(self) -> None:
        with self._lock:
            self._stop()


def _prepare_message(state_dir: str) -> bytes:
    return json.dumps({"prepare": state_dir}).encode()

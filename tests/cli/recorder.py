"""A scripted Engine API endpoint on a unix socket, for CLI tests that need no real daemon.

It answers `_ping`, records every request (method, target, JSON body) and replies from a
table keyed by (method, path without the /v1.NN prefix). A reply is (status, payload) —
payload a dict/list (JSON), str or bytes — or a callable(conn, request) that writes raw
bytes itself (chunked streams, 101 upgrades). Unlisted requests get a 404. This is a fake
on purpose: the tests check what the client sends and how it reads what comes back.
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field


@dataclass
class Recorded:
    method: str
    target: str
    headers: dict
    body: object

    @property
    def path(self) -> str:
        return self.target.split("?")[0]

    @property
    def query(self) -> dict[str, list[str]]:
        from urllib.parse import parse_qs

        return parse_qs(self.target.partition("?")[2])


def head(status: int, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status} X", "Api-Version: 1.44", "Ostype: linux"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def encode(status: int, payload: object, method: str = "GET") -> bytes:
    if isinstance(payload, bytes):
        data, kind = payload, "application/octet-stream"
    elif isinstance(payload, str):
        data, kind = payload.encode(), "text/plain"
    else:
        data, kind = json.dumps(payload).encode(), "application/json"
    body = b"" if method == "HEAD" or status in (204, 304) else data
    return head(status, {"Content-Type": kind, "Content-Length": str(len(body))}) + body


def chunked(status: int, pieces: list[bytes], kind: str = "application/json"):
    """A reply that streams pieces with chunked transfer encoding."""

    def reply(conn: socket.socket, request: Recorded) -> None:
        conn.sendall(head(status, {"Content-Type": kind, "Transfer-Encoding": "chunked"}))
        for piece in pieces:
            conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        conn.sendall(b"0\r\n\r\n")

    return reply


@dataclass
class Recorder:
    path: str
    replies: dict = field(default_factory=dict)
    requests: list = field(default_factory=list)

    def start(self) -> Recorder:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(16)
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def stop(self) -> None:
        self.sock.close()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            self._converse(conn)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away mid-reply, as clients may

    def _converse(self, conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        with conn:
            while (request := self._read(reader)) is not None:
                self.requests.append(request)
                bare = request.path
                if bare.startswith("/v1."):
                    bare = "/" + bare.split("/", 2)[2]
                if bare == "/_ping":
                    conn.sendall(encode(200, "" if request.method == "HEAD" else "OK", request.method))
                    continue
                reply = self.replies.get((request.method, bare), (404, {"message": f"not recorded: {bare}"}))
                if isinstance(reply, list):
                    reply = reply.pop(0) if len(reply) > 1 else reply[0]
                if callable(reply):
                    reply(conn, request)
                    if request.headers.get("upgrade"):
                        return
                    continue
                conn.sendall(encode(*reply, request.method))

    @staticmethod
    def _read(reader) -> Recorded | None:
        line = reader.readline()
        if not line:
            return None
        method, target, _ = line.decode().split(" ", 2)
        headers = {}
        while (raw := reader.readline()) not in (b"\r\n", b""):
            name, _, value = raw.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding") == "chunked":
            body = b""
            while size := int(reader.readline().strip(), 16):
                body += reader.read(size)
                reader.readline()
            reader.readline()
        else:
            body = reader.read(int(headers.get("content-length", 0)))
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = body
        return Recorded(method, target, headers, parsed)

    def find(self, method: str, suffix: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.endswith(suffix)]

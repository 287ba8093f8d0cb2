"""One HTTP request over a unix socket, answered as (status, headers, body): for comparing daemons."""

from __future__ import annotations

import http.client
import json
import socket


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def request(host: str, method: str, path: str, body: object = None, timeout: float = 30) -> tuple[int, dict, bytes]:
    """Send one request to `unix:///path` and read the whole answer."""
    connection = _UnixConnection(host.removeprefix("unix://"), timeout)
    headers = {}
    payload = None
    if body is not None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()

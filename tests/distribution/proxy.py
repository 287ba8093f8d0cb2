"""A misbehaving HTTP proxy in front of a registry, for failure tests.

Faults (set `proxy.fault` and `proxy.times`; `times` faults are served, then it behaves;
`proxy.min_blob` spares blob bodies shorter than that):
    corrupt         flip one byte in the middle of each blob body
    cut             send half of a blob body (full Content-Length), then drop the connection
    no-range        drop the client's Range header (the registry then answers 200, whole body)
    lie-digest      send a wrong Docker-Content-Digest with manifests
    schema1         answer manifest GETs with a schema1 manifest
    unknown-type    answer manifest GETs with a document of an unknown media type
    no-monolithic   refuse PUTs that carry a blob body with 413 (forces chunked uploads)
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class MisbehavingProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.fault = ""
        self.times = 1 << 30
        self.min_blob = 0  # blob faults only hit bodies at least this long
        self.log: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def take(self, fault: str) -> bool:
        """True when this request gets `fault` (and uses one of the remaining `times`)."""
        with self._lock:
            if self.fault != fault or self.times <= 0:
                return False
            self.times -= 1
            return True

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                is_blob = "/blobs/sha256:" in self.path and self.command == "GET"
                is_manifest = "/manifests/" in self.path and self.command == "GET"
                proxy.log.append((self.command, self.path, self.headers.get("Range", "")))
                if self.command == "PUT" and body and "/blobs/uploads/" in self.path and proxy.take("no-monolithic"):
                    return self._send(413, {}, b'{"errors":[{"code":"SIZE_INVALID","message":"too big"}]}')
                if is_manifest and proxy.take("schema1"):
                    return self._send(
                        200,
                        {"Content-Type": "application/vnd.docker.distribution.manifest.v1+prettyjws"},
                        b'{"schemaVersion": 1, "name": "x", "tag": "y", "fsLayers": []}',
                    )
                if is_manifest and proxy.take("unknown-type"):
                    return self._send(
                        200,
                        {"Content-Type": "application/vnd.example.thing+json"},
                        b'{"schemaVersion": 2, "things": []}',
                    )
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
                if is_blob and proxy.take("no-range"):
                    headers.pop("Range", None)
                conn = http.client.HTTPConnection(proxy.upstream, timeout=30)
                conn.request(self.command, self.path, body=body, headers=headers)
                upstream = conn.getresponse()
                data = upstream.read()
                reply = {k: v for k, v in upstream.getheaders() if k.lower() not in HOP}
                conn.close()
                if is_manifest and upstream.status == 200 and proxy.take("lie-digest"):
                    reply["Docker-Content-Digest"] = "sha256:" + "0" * 64
                if is_blob and upstream.status in (200, 206) and len(data) >= max(proxy.min_blob, 1):
                    if proxy.take("corrupt"):
                        middle = len(data) // 2
                        data = data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]
                    elif proxy.take("cut"):
                        return self._send(upstream.status, reply, data[: len(data) // 2], cut=len(data))
                self._send(
                    upstream.status,
                    reply,
                    data if self.command != "HEAD" else b"",
                    length=int(upstream.getheader("Content-Length") or len(data)),
                )

            def _send(self, status: int, headers: dict, data: bytes, cut: int = 0, length: int | None = None) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(cut or (length if length is not None else len(data))))
                if cut:
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()
                if cut:
                    self.close_connection = True

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _forward

            def log_message(self, *args: object) -> None:
                pass

        return Handler

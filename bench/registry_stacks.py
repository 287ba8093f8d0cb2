"""Which HTTP stack should the registry use? The three candidates serve the same two routes, measured alike.

    PYTHONPATH=src python bench/registry_stacks.py [--seconds 2] [--clients 6] [--file-mib 256]

Candidates: stdlib ThreadingHTTPServer (HTTP/1.1 keep-alive, shutil copy), h11 over threads with
sendfile (what dockyard.registry.http is), and asyncio with h11 and loop.sendfile. Routes: a 300-byte
JSON body (requests per second) and a large file (throughput). Loopback only, bounded loops.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import h11

sys.path.insert(0, str(Path(__file__).resolve().parent))
from registry_bench import Conn, free_port, request, requests_per_second, wait_ready  # noqa: E402

from dockyard.registry.http import FileSpan, Response  # noqa: E402
from dockyard.registry.listener import ThreadedServer  # noqa: E402

SMALL = b'{"schemaVersion":2,' + b'"x":"' + b"a" * 270 + b'"}'


def stdlib_server(port: int, big: str) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else headers and body go out in two segments and wait on delayed ACKs

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            if self.path == "/small":
                self.send_response(200)
                self.send_header("Content-Length", str(len(SMALL)))
                self.end_headers()
                self.wfile.write(SMALL)
                return
            size = os.path.getsize(big)
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            with open(big, "rb") as src:
                self.wfile.flush()
                self.connection.sendfile(src)

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def h11_threads_server(port: int, big: str) -> None:
    import socket

    def handle(req):
        if req.path == "/small":
            return Response(200, [("content-type", "application/json")], SMALL)
        return Response(200, [], FileSpan(big, 0, os.path.getsize(big)))

    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(128)
    ThreadedServer(listener, handle, 60, 1024).serve_forever()


def asyncio_server(port: int, big: str) -> None:
    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER)
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await reader.read(65536)
                conn.receive_data(data)
                if not data:
                    break
                continue
            if isinstance(event, h11.Request):
                target = event.target
                continue
            if isinstance(event, h11.EndOfMessage):
                if target == b"/small":
                    head = h11.Response(status_code=200, headers=[("content-length", str(len(SMALL)))])
                    writer.write(conn.send(head))
                    writer.write(conn.send(h11.Data(data=SMALL)) + conn.send(h11.EndOfMessage()))
                else:
                    size = os.path.getsize(big)
                    writer.write(conn.send(h11.Response(status_code=200, headers=[("content-length", str(size))])))
                    conn.send_with_data_passthrough(h11.Data(data=FileSpan(big, 0, size)))
                    await writer.drain()
                    with open(big, "rb") as src:
                        await asyncio.get_running_loop().sendfile(writer.transport, src)
                    writer.write(conn.send(h11.EndOfMessage()))
                await writer.drain()
                conn.start_next_cycle()
                continue
            break
        writer.close()

    async def run() -> None:
        server = await asyncio.start_server(client, "127.0.0.1", port)
        await server.serve_forever()

    asyncio.run(run())


def throughput(port: int, mib: int) -> float:
    conn = Conn(port)
    started = time.perf_counter()
    status, _, length = conn.exchange(request("GET", "/big"))
    assert status == 200 and length == mib << 20
    return length / (time.perf_counter() - started) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--file-mib", type=int, default=256)
    args = parser.parse_args()
    with tempfile.NamedTemporaryFile() as big:
        big.write(os.urandom(1 << 20) * args.file_mib)
        big.flush()
        for name, target in (
            ("stdlib ThreadingHTTPServer", stdlib_server),
            ("h11 over threads", h11_threads_server),
            ("asyncio + h11", asyncio_server),
        ):
            port = free_port()
            threading.Thread(target=target, args=(port, big.name), daemon=True).start()
            wait_ready(port)
            rps = requests_per_second(port, request("GET", "/small"), b"", args.clients, args.seconds)
            mbps = max(throughput(port, args.file_mib) for _ in range(3))
            print(f"{name:<28} small GET {rps:8.0f} req/s   {args.file_mib} MiB GET {mbps:8.0f} MB/s", flush=True)


if __name__ == "__main__":
    main()

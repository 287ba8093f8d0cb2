"""The registry's listener: one thread per connection (at most `max_connections`), each served
by `serve_connection` over http.py's Connection until the client leaves or misses a deadline."""

from __future__ import annotations

import socket
import sys
import threading
import traceback
from collections.abc import Callable

import h11

from dockyard.registry.http import ClientGone, Connection, Deadlines, Handler


def serve_connection(
    sock: socket.socket,
    handler: Handler,
    scheme: str,
    deadlines: Deadlines = Deadlines(),
    client: str = "",
    gate: threading.Semaphore | None = None,
) -> None:
    """Serve requests on one socket until the client leaves, breaks the protocol or misses a deadline.

    A request without a body is handled under `gate` (when given), so that a burst of hundreds of
    connections waits on a lock for a few handler slots instead of all contending for the GIL,
    which starves some of them for seconds. Requests with bodies stream outside it, and so do
    response bodies.
    """
    conn = Connection(sock, scheme, deadlines, client)
    try:
        while (request := conn.request()) is not None:
            if gate is not None and not request.has_body:
                with gate:
                    response = handler(request)
            else:
                response = handler(request)
            sock.settimeout(deadlines.read)
            conn.respond(response, request.method == "HEAD")
            if not conn.finish_cycle(request.body):
                return
    except ClientGone as exc:
        conn.refuse(exc)
    except (OSError, h11.LocalProtocolError):
        pass
    finally:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()


class ThreadedServer:
    """Accepts connections and serves each in its own thread, at most `max_connections` at once."""

    def __init__(
        self,
        listener: socket.socket,
        handler: Handler,
        deadlines: Deadlines,
        max_connections: int,
        wrap: Callable[[socket.socket], socket.socket] | None = None,
        workers: int = 0,
    ) -> None:
        self.listener = listener
        self.handler = handler
        self.deadlines = deadlines
        self.gate = threading.Semaphore(workers) if workers else None
        self.wrap = wrap
        self.slots = threading.BoundedSemaphore(max_connections)
        self.stopping = threading.Event()

    @property
    def address(self) -> tuple[str, int]:
        return self.listener.getsockname()[:2]

    def _run(self, sock: socket.socket, client: str) -> None:
        try:
            sock.settimeout(self.deadlines.header)  # bounds the TLS handshake
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.wrap is not None:
                sock = self.wrap(sock)
            scheme = "https" if self.wrap else "http"
            serve_connection(sock, self.handler, scheme, self.deadlines, client, self.gate)
        except OSError:
            sock.close()
        finally:
            self.slots.release()

    def every(self, interval: float, task: Callable[[], object]) -> None:
        """Run `task` every `interval` seconds in a thread of its own until `shutdown()` (housekeeping)."""

        def loop() -> None:
            while not self.stopping.wait(interval):
                try:
                    task()
                except Exception:  # housekeeping must outlive one failed pass; the next one retries
                    traceback.print_exc(file=sys.stderr)

        threading.Thread(target=loop, name="housekeeping", daemon=True).start()

    def serve_forever(self) -> None:
        """Accept until `shutdown()`."""
        while not self.stopping.is_set():
            self.slots.acquire()
            try:
                sock, peer = self.listener.accept()
            except OSError:
                self.slots.release()
                if self.stopping.is_set():
                    return
                continue
            threading.Thread(target=self._run, args=(sock, peer[0]), daemon=True).start()

    def shutdown(self) -> None:
        self.stopping.set()
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()

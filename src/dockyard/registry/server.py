"""Wiring: build storage, uploads, authorizer and upstream from a Config, and serve them on an address."""

from __future__ import annotations

import socket
import ssl
from functools import partial
from pathlib import Path

from dockyard.errors import InvalidArgument
from dockyard.registry.api import App, handle
from dockyard.registry.auth import Authorizer
from dockyard.registry.config import Config
from dockyard.registry.http import Deadlines, ThreadedServer
from dockyard.registry.proxy import Upstream
from dockyard.registry.storage import Storage
from dockyard.registry.uploads import Limits, Uploads


def parse_addr(addr: str) -> tuple[str, int]:
    """`HOST:PORT`, `:PORT` or `[v6]:PORT` -> (host, port)."""
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise InvalidArgument(f"invalid address {addr!r}: want HOST:PORT")
    return host.strip("[]") or "0.0.0.0", int(port)


def build_app(storage: Path | str, config: Config) -> App:
    """Every object a registry needs, built explicitly."""
    store = Storage(Path(storage), fsync=config.fsync)
    upstream = None
    if config.proxy_remote_url:
        upstream = Upstream(
            config.proxy_remote_url,
            config.proxy_username,
            config.proxy_password,
            token_hosts=config.proxy_token_hosts,
        )
    limits = Limits(config.max_upload_size, config.max_uploads, config.max_uploads_per_client, config.upload_ttl)
    return App(store, Uploads(store, limits), Authorizer(config), config, upstream)


def _tls_wrapper(config: Config):
    if not config.tls_certificate:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(config.tls_certificate, config.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise InvalidArgument(f"cannot load TLS certificate: {exc}") from None
    return partial(context.wrap_socket, server_side=True)


def make_server(addr: str, storage: Path | str, config: Config | None = None) -> ThreadedServer:
    """A bound, not yet serving registry; call `serve_forever()` (and `shutdown()` to stop)."""
    config = config or Config()
    host, port = parse_addr(addr)
    wrap = _tls_wrapper(config)
    app = build_app(storage, config)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        raise InvalidArgument(f"cannot listen on {addr}: {exc.strerror}") from None
    listener.listen(socket.SOMAXCONN)
    deadlines = Deadlines(
        config.read_timeout, config.idle_timeout, config.header_timeout, config.body_grace, config.body_min_rate
    )
    workers = 0 if app.upstream is not None else config.workers  # a cache miss waits on upstream in its handler
    server = ThreadedServer(listener, partial(handle, app), deadlines, config.max_connections, wrap, workers)
    server.every(min(config.upload_ttl / 4, 60.0), app.uploads.expire)
    return server


def serve(addr: str, storage: Path | str, config: Config | None = None) -> None:
    """Serve the registry on `addr` (HOST:PORT) from `storage` until interrupted."""
    serve_until_interrupted(make_server(addr, storage, config))


def serve_until_interrupted(server: ThreadedServer) -> None:
    """Answer requests until Ctrl-C (or SIGINT), then close the listener."""
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()

"""`dockyard daemon [--data-root DIR] [-H unix:///path] [--config-file FILE] [--debug]`."""

from __future__ import annotations

from dockyard.cli.client import socket_path
from dockyard.cli.flags import Parser


def main(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "[OPTIONS]", "Run the dockyard daemon")
    parser.add_argument("--data-root", default="/var/lib/dockyard")
    parser.add_argument("-H", "--host", default=None)
    parser.add_argument("--config-file")
    parser.add_argument("-D", "--debug", action="store_true")
    ns = parser.parse(argv)
    from pathlib import Path

    from dockyard.daemon import run_daemon

    host = ns.host or ctx.host
    config = Path(ns.config_file) if ns.config_file else None
    return run_daemon(Path(ns.data_root), Path(socket_path(host)), config, ns.debug or ctx.debug) or 0

"""`dockyard registry serve|gc`: parse flags, call serve() or gc(), print."""

from __future__ import annotations

import argparse
import sys

from dockyard.errors import DockyardError
from dockyard.registry.config import load_config
from dockyard.registry.gc import DEFAULT_GRACE, DEFAULT_UPLOAD_GRACE, gc, report_json
from dockyard.registry.server import make_server, serve_until_interrupted


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dockyard registry", description="An OCI distribution registry")
    verbs = parser.add_subparsers(dest="verb", required=True)
    serve = verbs.add_parser("serve", help="serve the registry")
    serve.add_argument("--addr", default="127.0.0.1:5000", help="HOST:PORT to listen on")
    serve.add_argument("--storage", required=True, help="storage directory")
    serve.add_argument("--config", help="TOML config file")
    collect = verbs.add_parser("gc", help="remove unreferenced blobs and abandoned uploads")
    collect.add_argument("--storage", required=True, help="storage directory")
    collect.add_argument("--dry-run", action="store_true", help="report, delete nothing")
    collect.add_argument("--grace", type=float, default=DEFAULT_GRACE, help="keep blobs younger than this (s)")
    collect.add_argument(
        "--upload-grace", type=float, default=DEFAULT_UPLOAD_GRACE, help="keep uploads active within this (s)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run `serve` or `gc`; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.verb == "gc":
            print(report_json(gc(args.storage, args.dry_run, args.grace, args.upload_grace)))
            return 0
        server = make_server(args.addr, args.storage, load_config(args.config))
        host, port = server.address
        print(f"dockyard registry listening on {host}:{port}", flush=True)
        serve_until_interrupted(server)
        return 0
    except DockyardError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1

"""`dockyard restart [-t SECONDS] [-s SIGNAL] CONTAINER...`."""

from __future__ import annotations

from dockyard.cli.batch import each
from dockyard.cli.client import path_id
from dockyard.cli.commands.stop import lifecycle_parser


def main(ctx, argv: list[str]) -> int:
    ns = lifecycle_parser(ctx.prog, "Restart one or more containers").parse(argv)
    query = {"t": ns.time, "signal": ns.signal}
    return each(ns.containers, lambda ref: ctx.client.call("POST", f"/containers/{path_id(ref)}/restart", query))

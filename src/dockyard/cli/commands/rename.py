"""`dockyard rename CONTAINER NEW_NAME`."""

from __future__ import annotations

from dockyard.cli.client import path_id
from dockyard.cli.flags import Parser


def main(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "CONTAINER NEW_NAME", "Rename a container")
    parser.add_argument("container")
    parser.add_argument("name")
    ns = parser.parse(argv)
    ctx.client.call("POST", f"/containers/{path_id(ns.container)}/rename", {"name": ns.name})
    return 0

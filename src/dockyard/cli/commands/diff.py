"""`dockyard diff CONTAINER`: files changed in the container's filesystem (C, A, D)."""

from __future__ import annotations

import sys

from dockyard.cli.client import path_id
from dockyard.cli.flags import Parser

KINDS = {0: "C", 1: "A", 2: "D"}


def main(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "CONTAINER", "Inspect changes to files or directories on a container's filesystem")
    parser.add_argument("container")
    ns = parser.parse(argv)
    changes = ctx.client.get(f"/containers/{path_id(ns.container)}/changes") or []
    sys.stdout.write("".join(f"{KINDS.get(c.get('Kind'), '?')} {c.get('Path')}\n" for c in changes))
    return 0

"""`dockyard top CONTAINER [ps OPTIONS]`."""

from __future__ import annotations

import sys

from dockyard.cli.client import path_id
from dockyard.cli.flags import REMAINDER, Parser
from dockyard.cli.tables import tabwrite


def main(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "CONTAINER [ps OPTIONS]", "Display the running processes of a container")
    parser.add_argument("container")
    parser.add_argument("ps_args", nargs=REMAINDER)
    ns = parser.parse(argv)
    query = {"ps_args": " ".join(ns.ps_args) or None}
    result = ctx.client.get(f"/containers/{path_id(ns.container)}/top", query)
    lines = ["\t".join(result.get("Titles") or [])]
    lines += ["\t".join(process) for process in result.get("Processes") or []]
    sys.stdout.write(tabwrite(lines, minwidth=20, padding=3))
    return 0

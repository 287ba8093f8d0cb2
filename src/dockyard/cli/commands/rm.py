"""`dockyard rm [-f] [-v] [-l] CONTAINER...`."""

from __future__ import annotations

from dockyard.cli.batch import each
from dockyard.cli.client import path_id
from dockyard.cli.flags import Parser


def main(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "[OPTIONS] CONTAINER [CONTAINER...]", "Remove one or more containers")
    parser.add_argument("-f", "--force", action="store_true")
    parser.add_argument("-v", "--volumes", action="store_true")
    parser.add_argument("-l", "--link", action="store_true")
    parser.add_argument("containers", nargs="+")
    ns = parser.parse(argv)
    query = {"force": ns.force or None, "v": ns.volumes or None, "link": ns.link or None}
    return each(ns.containers, lambda ref: ctx.client.call("DELETE", f"/containers/{path_id(ref)}", query))

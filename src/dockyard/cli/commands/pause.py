"""`dockyard pause CONTAINER...` and its twin `dockyard unpause CONTAINER...`."""

from __future__ import annotations

from dockyard.cli.batch import each
from dockyard.cli.client import path_id
from dockyard.cli.flags import Parser


def _toggle(ctx, argv: list[str], action: str, what: str) -> int:
    parser = Parser(ctx.prog, "CONTAINER [CONTAINER...]", what)
    parser.add_argument("containers", nargs="+")
    ns = parser.parse(argv)
    return each(ns.containers, lambda ref: ctx.client.call("POST", f"/containers/{path_id(ref)}/{action}"))


def main(ctx, argv: list[str]) -> int:
    return _toggle(ctx, argv, "pause", "Pause all processes within one or more containers")


def unpause(ctx, argv: list[str]) -> int:
    return _toggle(ctx, argv, "unpause", "Unpause all processes within one or more containers")

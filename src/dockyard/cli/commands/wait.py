"""`dockyard wait CONTAINER...`: block until each stops, print its exit code."""

from __future__ import annotations

from dockyard.cli.batch import each
from dockyard.cli.client import path_id
from dockyard.cli.flags import Parser


def main(ctx, argv: list[str]) -> int:
    parser = Parser(
        ctx.prog, "CONTAINER [CONTAINER...]", "Block until one or more containers stop, then print their exit codes"
    )
    parser.add_argument("containers", nargs="+")
    ns = parser.parse(argv)
    return each(
        ns.containers,
        lambda ref: ctx.client.post(f"/containers/{path_id(ref)}/wait", {"condition": "not-running"})["StatusCode"],
    )

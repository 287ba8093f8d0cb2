"""`dockyard kill [-s SIGNAL] CONTAINER...`."""

from __future__ import annotations

from dockyard.cli.batch import each
from dockyard.cli.client import path_id
from dockyard.cli.flags import Parser


def main(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "[OPTIONS] CONTAINER [CONTAINER...]", "Kill one or more running containers")
    parser.add_argument("-s", "--signal")
    parser.add_argument("containers", nargs="+")
    ns = parser.parse(argv)
    return each(
        ns.containers, lambda ref: ctx.client.call("POST", f"/containers/{path_id(ref)}/kill", {"signal": ns.signal})
    )

"""`dockyard stop [-t SECONDS] [-s SIGNAL] CONTAINER...`."""

from __future__ import annotations

from dockyard.cli.batch import each
from dockyard.cli.client import path_id
from dockyard.cli.flags import Parser


def lifecycle_parser(prog: str, what: str) -> Parser:
    parser = Parser(prog, "[OPTIONS] CONTAINER [CONTAINER...]", what)
    parser.add_argument("-t", "--time", "--timeout", type=int, dest="time")
    parser.add_argument("-s", "--signal")
    parser.add_argument("containers", nargs="+")
    return parser


def main(ctx, argv: list[str]) -> int:
    ns = lifecycle_parser(ctx.prog, "Stop one or more running containers").parse(argv)
    query = {"t": ns.time, "signal": ns.signal}
    return each(ns.containers, lambda ref: ctx.client.call("POST", f"/containers/{path_id(ref)}/stop", query))

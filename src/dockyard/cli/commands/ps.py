"""`dockyard ps [-a] [-q] [-n N] [-l] [-s] [--no-trunc] [-f FILTER] [--format FORMAT]`."""

from __future__ import annotations

import sys

from dockyard.cli.filters import parse_filters
from dockyard.cli.flags import Parser, multi
from dockyard.cli.rows import ContainerRow
from dockyard.cli.tables import render

DEFAULT_FORMAT = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"


def choose_format(fmt: str | None, quiet: bool, size: bool) -> str:
    """Docker's pick: -q wins, then --format, then the default table (+ SIZE with -s)."""
    if quiet:
        return "{{.ID}}"
    if fmt and fmt != "table":
        return fmt
    return DEFAULT_FORMAT + ("\t{{.Size}}" if size else "")


def main(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "[OPTIONS]", "List containers")
    parser.add_argument("-a", "--all", action="store_true")
    parser.add_argument("-q", "--quiet", action="store_true")
    parser.add_argument("-n", "--last", type=int, default=-1)
    parser.add_argument("-l", "--latest", action="store_true")
    parser.add_argument("-s", "--size", action="store_true")
    parser.add_argument("--no-trunc", action="store_true")
    parser.add_argument("--format")
    multi(parser, "-f", "--filter", dest="filter")
    ns = parser.parse(argv)
    fmt = choose_format(ns.format, ns.quiet, ns.size)
    limit = 1 if ns.latest else ns.last
    query = {
        "all": True if ns.all or limit > 0 else None,
        "limit": limit if limit > 0 else None,
        "size": True if ns.size or "{{.Size}}" in fmt.replace(" ", "") else None,
        "filters": parse_filters(ns.filter),
    }
    containers = ctx.client.get("/containers/json", query) or []
    rows = [ContainerRow(c, trunc=not ns.no_trunc) for c in containers]
    sys.stdout.write(render(fmt, rows, ContainerRow.HEADERS))
    return 0

"""`dockyard events [--since T] [--until T] [-f FILTER] [--format FORMAT]`: stream daemon events."""

from __future__ import annotations

import sys

from dockyard.cli.filters import parse_filters
from dockyard.cli.flags import Parser, multi
from dockyard.cli.rows import rfc3339
from dockyard.cli.streams import JSONLineDecoder
from dockyard.timestamps import api_timestamp


def event_line(event: dict) -> str:
    """Docker's default: '<RFC3339Nano> <Type> <Action> <ID> (k=v, ...)'."""
    nanos = event.get("timeNano") or int(event.get("time", 0)) * 1_000_000_000
    stamp = rfc3339(nanos // 1_000_000_000)
    stamp = f"{stamp[:19]}.{nanos % 1_000_000_000:09d}{stamp[19:]}"
    actor = event.get("Actor") or {}
    attrs = actor.get("Attributes") or {}
    line = f"{stamp} {event.get('Type', '')} {event.get('Action', '')} {actor.get('ID', '')}"
    if attrs:
        line += " (" + ", ".join(f"{k}={attrs[k]}" for k in sorted(attrs)) + ")"
    return line


def main(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "[OPTIONS]", "Get real time events from the server")
    parser.add_argument("--since")
    parser.add_argument("--until")
    parser.add_argument("--format")
    multi(parser, "-f", "--filter", dest="filter")
    ns = parser.parse(argv)
    query = {
        "since": api_timestamp(ns.since) if ns.since else None,
        "until": api_timestamp(ns.until) if ns.until else None,
        "filters": parse_filters(ns.filter),
    }
    template = None
    if ns.format:
        from dockyard.cli.formatting import Template

        template = Template("{{json .}}" if ns.format == "json" else ns.format)
    response = ctx.client.request("GET", "/events", query)
    decoder = JSONLineDecoder()
    for chunk in response.iter_raw(4096):
        for event in decoder.feed(chunk):
            sys.stdout.write((template.render(event) if template else event_line(event)) + "\n")
            sys.stdout.flush()
    return 0

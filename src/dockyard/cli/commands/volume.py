"""`dockyard volume create|ls|inspect|rm|prune`."""

from __future__ import annotations

import sys

from dockyard.cli.batch import each
from dockyard.cli.client import path_id
from dockyard.cli.commands import inspect, prune
from dockyard.cli.filters import parse_filters
from dockyard.cli.flags import Parser, multi
from dockyard.cli.runopts import parse_labels
from dockyard.cli.tables import render

DEFAULT_FORMAT = "table {{.Driver}}\t{{.Name}}"
HEADERS = {
    "Name": "VOLUME NAME",
    "Driver": "DRIVER",
    "Scope": "SCOPE",
    "Mountpoint": "MOUNTPOINT",
    "Labels": "LABELS",
    "Links": "LINKS",
    "Size": "SIZE",
    "CreatedAt": "CREATED AT",
}


def create(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "[OPTIONS] [VOLUME]", "Create a volume")
    parser.add_argument("-d", "--driver", default="local")
    multi(parser, "-o", "--opt", dest="opt")
    multi(parser, "--label", dest="label")
    parser.add_argument("--name", dest="name_flag")
    parser.add_argument("name", nargs="?")
    ns = parser.parse(argv)
    body = {
        "Name": ns.name or ns.name_flag or "",
        "Driver": ns.driver,
        "DriverOpts": parse_labels(ns.opt),
        "Labels": parse_labels(ns.label),
    }
    sys.stdout.write(ctx.client.post("/volumes/create", None, body)["Name"] + "\n")
    return 0


def volume_row(data: dict) -> dict:
    labels = data.get("Labels") or {}
    usage = data.get("UsageData") or {}
    return {
        "Name": data.get("Name", ""),
        "Driver": data.get("Driver", ""),
        "Scope": data.get("Scope", ""),
        "Mountpoint": data.get("Mountpoint", ""),
        "CreatedAt": data.get("CreatedAt", ""),
        "Labels": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
        "Links": str(usage.get("RefCount", "N/A")),
        "Size": str(usage.get("Size", "N/A")),
    }


def ls(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "[OPTIONS]", "List volumes")
    parser.add_argument("-q", "--quiet", action="store_true")
    parser.add_argument("--format")
    multi(parser, "-f", "--filter", dest="filter")
    ns = parser.parse(argv)
    result = ctx.client.get("/volumes", {"filters": parse_filters(ns.filter)}) or {}
    volumes = sorted(result.get("Volumes") or [], key=lambda v: v.get("Name", ""))
    fmt = "{{.Name}}" if ns.quiet else (ns.format if ns.format not in (None, "", "table") else DEFAULT_FORMAT)
    sys.stdout.write(render(fmt, [volume_row(v) for v in volumes], HEADERS))
    for warning in result.get("Warnings") or []:
        sys.stderr.write(f"WARNING: {warning}\n")
    return 0


def rm(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "[OPTIONS] VOLUME [VOLUME...]", "Remove one or more volumes")
    parser.add_argument("-f", "--force", action="store_true")
    parser.add_argument("volumes", nargs="+")
    ns = parser.parse(argv)
    query = {"force": ns.force or None}
    return each(ns.volumes, lambda ref: ctx.client.call("DELETE", f"/volumes/{path_id(ref)}", query))


def inspect_(ctx, argv: list[str]) -> int:
    return inspect.inspect_main(ctx, argv, "volume")


def prune_(ctx, argv: list[str]) -> int:
    return prune.volume(ctx, argv)

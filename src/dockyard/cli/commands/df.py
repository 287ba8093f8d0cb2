"""`dockyard system df [--format FORMAT]`: disk usage by images, containers, volumes, build cache."""

from __future__ import annotations

import sys

from dockyard.cli.flags import Parser
from dockyard.cli.tables import render
from dockyard.units import human_size

DEFAULT_FORMAT = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"
HEADERS = {"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE", "Reclaimable": "RECLAIMABLE"}


def _row(kind: str, total: int, active: int, size: int, reclaimable: int) -> dict:
    percent = f" ({int(reclaimable * 100 / size)}%)" if size else ""
    return {
        "Type": kind,
        "TotalCount": str(total),
        "Active": str(active),
        "Size": human_size(size, 3),
        "Reclaimable": human_size(reclaimable, 3) + percent,
    }


def usage_rows(df: dict) -> list[dict]:
    """The four summary rows docker prints, computed from GET /system/df."""
    images = df.get("Images") or []
    active_images = [i for i in images if (i.get("Containers") or 0) > 0]
    image_size = sum(i.get("Size") or 0 for i in images)
    used = sum(i.get("Size") or 0 for i in active_images)
    containers = df.get("Containers") or []
    running = [c for c in containers if c.get("State") == "running"]
    rw = sum(c.get("SizeRw") or 0 for c in containers)
    volumes = df.get("Volumes") or []
    vol_size = sum(max((v.get("UsageData") or {}).get("Size", 0), 0) for v in volumes)
    vol_used = [v for v in volumes if ((v.get("UsageData") or {}).get("RefCount") or 0) > 0]
    vol_free = sum(max((v.get("UsageData") or {}).get("Size", 0), 0) for v in volumes if v not in vol_used)
    cache = df.get("BuildCache") or []
    cache_size = sum(c.get("Size") or 0 for c in cache)
    cache_free = sum(c.get("Size") or 0 for c in cache if not c.get("InUse"))
    return [
        _row("Images", len(images), len(active_images), image_size, image_size - used),
        _row("Containers", len(containers), len(running), rw, rw - sum(c.get("SizeRw") or 0 for c in running)),
        _row("Local Volumes", len(volumes), len(vol_used), vol_size, vol_free),
        _row("Build Cache", len(cache), len([c for c in cache if c.get("InUse")]), cache_size, cache_free),
    ]


def main(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "[OPTIONS]", "Show docker disk usage")
    parser.add_argument("--format")
    parser.add_argument("-v", "--verbose", action="store_true")
    ns = parser.parse(argv)
    df = ctx.client.get("/system/df") or {}
    fmt = ns.format if ns.format not in (None, "", "table") else DEFAULT_FORMAT
    sys.stdout.write(render(fmt, usage_rows(df), HEADERS))
    return 0

"""`dockyard system df [-v] [--format FORMAT]`: disk usage by images, containers, volumes, build cache.

The figures are the docker CLI's, from the same GET /system/df: the Images row's size is
LayersSize, its reclaimable part what the images no container uses do not share; `-v` lists
each image, container and volume as docker's verbose view does.
"""

from __future__ import annotations

import sys

from dockyard.cli.flags import Parser
from dockyard.cli.rows import ContainerRow, image_rows
from dockyard.cli.tables import render
from dockyard.units import human_size

DEFAULT_FORMAT = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"
HEADERS = {"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE", "Reclaimable": "RECLAIMABLE"}
IMAGES_FORMAT = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}"
IMAGE_HEADERS = {
    "Repository": "REPOSITORY",
    "Tag": "TAG",
    "ID": "IMAGE ID",
    "CreatedSince": "CREATED",
    "Size": "SIZE",
    "SharedSize": "SHARED SIZE",
    "UniqueSize": "UNIQUE SIZE",
    "Containers": "CONTAINERS",
}
CONTAINERS_FORMAT = (
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}"
)
VOLUMES_FORMAT = "table {{.Name}}\t{{.Links}}\t{{.Size}}"
VOLUME_HEADERS = {"Name": "VOLUME NAME", "Links": "LINKS", "Size": "SIZE"}
CACHE_HEADER = "CACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED\n"
ACTIVE_STATES = ("running", "paused", "restarting")


def _row(kind: str, total: int, active: int, size: int, reclaimable: int) -> dict:
    percent = f" ({reclaimable * 100 // size}%)" if size else ""
    return {
        "Type": kind,
        "TotalCount": str(total),
        "Active": str(active),
        "Size": human_size(size),
        "Reclaimable": human_size(reclaimable) + percent,
    }


def usage_rows(df: dict) -> list[dict]:
    """The four summary rows docker prints, computed from GET /system/df as the docker CLI does."""
    images = df.get("Images") or []
    active_images = [i for i in images if (i.get("Containers") or 0) > 0]
    layers = df.get("LayersSize") or 0
    used = sum((i.get("Size") or 0) - max(i.get("SharedSize") or 0, 0) for i in active_images)
    containers = df.get("Containers") or []
    running = [c for c in containers if c.get("State") in ACTIVE_STATES]
    rw = sum(c.get("SizeRw") or 0 for c in containers)
    volumes = df.get("Volumes") or []
    vol_sizes = [max((v.get("UsageData") or {}).get("Size", 0), 0) for v in volumes]
    vol_refs = [(v.get("UsageData") or {}).get("RefCount") or 0 for v in volumes]
    cache = df.get("BuildCache") or []
    cache_size = sum(c.get("Size") or 0 for c in cache)
    cache_free = sum(c.get("Size") or 0 for c in cache if not c.get("InUse"))
    return [
        _row("Images", len(images), len(active_images), layers, layers - used),
        _row("Containers", len(containers), len(running), rw, rw - sum(c.get("SizeRw") or 0 for c in running)),
        _row(
            "Local Volumes",
            len(volumes),
            sum(1 for r in vol_refs if r > 0),
            sum(vol_sizes),
            sum(s for s, r in zip(vol_sizes, vol_refs, strict=True) if r == 0),
        ),
        _row("Build Cache", len(cache), len([c for c in cache if c.get("InUse")]), cache_size, cache_free),
    ]


def verbose(df: dict, now: float | None = None) -> str:
    """Docker's `system df -v`: one table per kind (an image under its first tag)."""
    images = []
    for image in df.get("Images") or []:
        row = image_rows(image, digests=False, now=now)[0]
        shared = max(image.get("SharedSize") or 0, 0)
        row.SharedSize = human_size(shared)
        row.UniqueSize = human_size((image.get("Size") or 0) - shared)
        images.append(row)
    containers = [_DiskUsageContainer(c, now=now) for c in df.get("Containers") or []]
    volumes = [
        {"Name": v["Name"], "Links": str(u.get("RefCount", 0)), "Size": human_size(max(u.get("Size", 0), 0))}
        for v in df.get("Volumes") or []
        for u in [v.get("UsageData") or {}]
    ]
    cache = sum(c.get("Size") or 0 for c in df.get("BuildCache") or [])
    return (
        "Images space usage:\n\n"
        + render(IMAGES_FORMAT, images, IMAGE_HEADERS)
        + "\nContainers space usage:\n\n"
        + render(CONTAINERS_FORMAT, containers, ContainerRow.HEADERS)
        + "\nLocal Volumes space usage:\n\n"
        + render(VOLUMES_FORMAT, volumes, VOLUME_HEADERS)
        + f"\nBuild cache usage: {human_size(cache)}\n\n"
        + CACHE_HEADER
    )


class _DiskUsageContainer(ContainerRow):
    """A container in `df -v`: its size is its writable layer alone."""

    @property
    def Size(self) -> str:
        return human_size(self.data.get("SizeRw") or 0, 3)


def main(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "[OPTIONS]", "Show docker disk usage")
    parser.add_argument("--format")
    parser.add_argument("-v", "--verbose", action="store_true")
    ns = parser.parse(argv)
    if ns.verbose and ns.format not in (None, "", "table"):
        sys.stderr.write("dockyard: --format with --verbose is not supported (docker renders it as JSON)\n")
        return 1
    df = ctx.client.get("/system/df") or {}
    if ns.verbose:
        sys.stdout.write(verbose(df))
        return 0
    fmt = ns.format if ns.format not in (None, "", "table") else DEFAULT_FORMAT
    sys.stdout.write(render(fmt, usage_rows(df), HEADERS))
    return 0

"""`dockyard container|image|network|volume|system prune [-f] [-a] [--filter F]`."""

from __future__ import annotations

import sys

from dockyard.cli.filters import parse_filters
from dockyard.cli.flags import Parser, multi
from dockyard.errors import InvalidArgument, NotSupported
from dockyard.units import human_size

WARNINGS = {
    "container": "This will remove all stopped containers.",
    "image": "This will remove all dangling images.",
    "image-all": "This will remove all images without at least one container associated to them.",
    "network": "This will remove all custom networks not used by at least one container.",
    "volume": "This will remove anonymous local volumes not used by at least one container.",
}
REMOVED_KEYS = {
    "container": ("ContainersDeleted", "Deleted Containers:"),
    "network": ("NetworksDeleted", "Deleted Networks:"),
    "volume": ("VolumesDeleted", "Deleted Volumes:"),
}


def confirm(message: str) -> bool:
    """Docker's prompt; anything but y/yes declines."""
    sys.stdout.write(f"WARNING! {message}\nAre you sure you want to continue? [y/N] ")
    sys.stdout.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def report(kind: str, result: dict) -> str:
    """The 'Deleted ...:' listing and 'Total reclaimed space:' line."""
    lines = []
    if kind == "image":
        items = result.get("ImagesDeleted") or []
        if items:
            lines.append("Deleted Images:")
            for item in items:
                lines += [f"untagged: {item['Untagged']}"] if item.get("Untagged") else []
                lines += [f"deleted: {item['Deleted']}"] if item.get("Deleted") else []
            lines.append("")
    else:
        key, title = REMOVED_KEYS[kind]
        items = result.get(key) or []
        if items:
            lines += [title, *items, ""]
    if kind != "network":
        lines.append(f"Total reclaimed space: {human_size(result.get('SpaceReclaimed') or 0)}")
    return "".join(line + "\n" for line in lines)


def _prune(ctx, argv: list[str], kind: str) -> int:
    parser = Parser(ctx.prog, "[OPTIONS]", f"Remove unused {kind}s")
    parser.add_argument("-f", "--force", action="store_true")
    multi(parser, "--filter", dest="filter")
    if kind in ("image", "volume"):
        parser.add_argument("-a", "--all", action="store_true")
    ns = parser.parse(argv)
    filters = parse_filters(ns.filter) or {}
    everything = getattr(ns, "all", False)
    if everything:
        filters["dangling" if kind == "image" else "all"] = {"false" if kind == "image" else "true": True}
    warning = WARNINGS["image-all" if kind == "image" and everything else kind]
    if not ns.force and not confirm(warning):
        return 0
    result = ctx.client.post(f"/{kind}s/prune", {"filters": filters or None}) or {}
    sys.stdout.write(report(kind, result))
    return 0


def container(ctx, argv: list[str]) -> int:
    return _prune(ctx, argv, "container")


def image(ctx, argv: list[str]) -> int:
    return _prune(ctx, argv, "image")


def network(ctx, argv: list[str]) -> int:
    return _prune(ctx, argv, "network")


def volume(ctx, argv: list[str]) -> int:
    return _prune(ctx, argv, "volume")


def system_warnings(volumes: bool, everything: bool) -> list[str]:
    """What docker's `system prune` says it will remove."""
    return [
        "all stopped containers",
        "all networks not used by at least one container",
        *(["all anonymous volumes not used by at least one container"] if volumes else []),
        "all images without at least one container associated to them" if everything else "all dangling images",
        "all build cache" if everything else "unused build cache",
    ]


def section(kind: str, result: dict) -> str:
    """One kind's 'Deleted ...:' listing within `system prune` (no total of its own)."""
    lines = report(kind, result).splitlines()
    return "".join(line + "\n" for line in lines if not line.startswith("Total reclaimed space:"))


def system(ctx, argv: list[str]) -> int:
    """Containers, networks, (anonymous) volumes, images, then the build cache, as docker's
    CLI prunes them, with one total at the end. A daemon that has no builder (501 on
    /build/prune) has no build cache to prune."""
    parser = Parser(ctx.prog, "[OPTIONS]", "Remove unused data")
    parser.add_argument("-f", "--force", action="store_true")
    parser.add_argument("-a", "--all", action="store_true")
    parser.add_argument("--volumes", action="store_true")
    multi(parser, "--filter", dest="filter")
    ns = parser.parse(argv)
    filters = parse_filters(ns.filter) or {}
    if ns.volumes and "until" in filters:
        raise InvalidArgument('ERROR: The "until" filter is not supported with "--volumes"')
    warning = "This will remove:\n" + "".join(f"  - {w}\n" for w in system_warnings(ns.volumes, ns.all))
    if filters:
        warning += "\n  Items to be pruned will be filtered with:\n" + "".join(
            f"  - {key}={value}\n" for key, values in sorted(filters.items()) for value in values
        )
    if not ns.force and not confirm(warning):
        return 0
    reclaimed = 0
    for kind in ["container", "network"] + (["volume"] if ns.volumes else []) + ["image"]:
        query = {**filters, **({"dangling": {"false": True}} if kind == "image" and ns.all else {})}
        result = ctx.client.post(f"/{kind}s/prune", {"filters": query or None}) or {}
        reclaimed += result.get("SpaceReclaimed") or 0
        sys.stdout.write(section(kind, result))
    reclaimed += _prune_build_cache(ctx, filters, ns.all)
    sys.stdout.write(f"Total reclaimed space: {human_size(reclaimed)}\n")
    return 0


def _prune_build_cache(ctx, filters: dict, everything: bool) -> int:
    try:
        result = ctx.client.post("/build/prune", {"all": everything or None, "filters": filters or None}) or {}
    except NotSupported:
        return 0
    deleted = result.get("CachesDeleted") or []
    if deleted:
        sys.stdout.write("Deleted build cache objects:\n" + "".join(f"{c}\n" for c in deleted) + "\n")
    return result.get("SpaceReclaimed") or 0

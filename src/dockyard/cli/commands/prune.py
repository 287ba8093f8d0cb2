"""`dockyard container|image|network|volume|system prune [-f] [-a] [--filter F]`."""

from __future__ import annotations

import sys

from dockyard.cli.filters import parse_filters
from dockyard.cli.flags import Parser, multi
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


def system(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "[OPTIONS]", "Remove unused data")
    parser.add_argument("-f", "--force", action="store_true")
    parser.add_argument("-a", "--all", action="store_true")
    parser.add_argument("--volumes", action="store_true")
    ns = parser.parse(argv)
    kinds = ["container", "network"] + (["volume"] if ns.volumes else []) + ["image"]
    if not ns.force and not confirm(
        "This will remove all stopped containers, unused networks"
        + (", unused volumes" if ns.volumes else "")
        + " and dangling images."
    ):
        return 0
    for kind in kinds:
        query = {"filters": {"dangling": {"false": True}}} if kind == "image" and ns.all else None
        sys.stdout.write(report(kind, ctx.client.post(f"/{kind}s/prune", query) or {}))
    return 0

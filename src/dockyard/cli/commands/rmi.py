"""`dockyard rmi [-f] [--no-prune] IMAGE...`."""

from __future__ import annotations

import sys

from dockyard.cli.batch import each
from dockyard.cli.client import path_id
from dockyard.cli.flags import Parser


def deletion_lines(items: list[dict]) -> str:
    """Docker's 'Untagged: x' / 'Deleted: sha256:...' lines."""
    lines = []
    for item in items or []:
        if item.get("Untagged"):
            lines.append(f"Untagged: {item['Untagged']}")
        if item.get("Deleted"):
            lines.append(f"Deleted: {item['Deleted']}")
    return "".join(line + "\n" for line in lines)


def main(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "[OPTIONS] IMAGE [IMAGE...]", "Remove one or more images")
    parser.add_argument("-f", "--force", action="store_true")
    parser.add_argument("--no-prune", action="store_true")
    parser.add_argument("images", nargs="+")
    ns = parser.parse(argv)
    query = {"force": ns.force or None, "noprune": ns.no_prune or None}

    def remove(ref: str) -> None:
        sys.stdout.write(deletion_lines(ctx.client.delete(f"/images/{path_id(ref)}", query)))

    return each(ns.images, remove, echo=False)

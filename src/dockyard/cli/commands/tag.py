"""`dockyard tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]`."""

from __future__ import annotations

from dockyard.cli.client import path_id
from dockyard.cli.commands.pull import split_reference
from dockyard.cli.flags import Parser


def main(ctx, argv: list[str]) -> int:
    parser = Parser(
        ctx.prog, "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"
    )
    parser.add_argument("source")
    parser.add_argument("target")
    ns = parser.parse(argv)
    repo, tag = split_reference(ns.target)
    ctx.client.call("POST", f"/images/{path_id(ns.source)}/tag", {"repo": repo, "tag": tag})
    return 0

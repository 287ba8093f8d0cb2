"""`dockyard tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]`."""

from __future__ import annotations

from dockyard.cli.client import path_id
from dockyard.cli.flags import Parser
from dockyard.oci.reference import parse_reference


def main(ctx, argv: list[str]) -> int:
    parser = Parser(
        ctx.prog, "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"
    )
    parser.add_argument("source")
    parser.add_argument("target")
    ns = parser.parse(argv)
    target = parse_reference(ns.target)
    repo, tag = target.familiar_name(), target.object
    ctx.client.call("POST", f"/images/{path_id(ns.source)}/tag", {"repo": repo, "tag": tag})
    return 0

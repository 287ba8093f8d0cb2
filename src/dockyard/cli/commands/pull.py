"""`dockyard pull [-q] [-a] [--platform P] NAME[:TAG|@DIGEST]`."""

from __future__ import annotations

import sys

from dockyard.cli.credentials import auth_header
from dockyard.cli.flags import Parser
from dockyard.cli.progress import display_on_terminal
from dockyard.oci.reference import parse_reference


def pull_image(
    ctx, ref: str, platform: str | None = None, out=None, quiet: bool = False, all_tags: bool = False
) -> list[dict]:
    """POST /images/create and show its progress on `out` (stdout by default)."""
    out = out or sys.stdout
    parsed = parse_reference(ref, default_tag=not all_tags)
    tag = None if all_tags else parsed.object
    query = {"fromImage": parsed.familiar_name(), "tag": tag, "platform": platform or None}
    response = ctx.client.request("POST", "/images/create", query, headers=auth_header(ref))
    return display_on_terminal(response, out, quiet=quiet)


def main(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "[OPTIONS] NAME[:TAG|@DIGEST]", "Download an image from a registry")
    parser.add_argument("-q", "--quiet", action="store_true")
    parser.add_argument("-a", "--all-tags", action="store_true")
    parser.add_argument("--platform")
    parser.add_argument("--disable-content-trust", action="store_true")
    parser.add_argument("name")
    ns = parser.parse(argv)
    pull_image(ctx, ns.name, ns.platform, quiet=ns.quiet, all_tags=ns.all_tags)
    sys.stdout.write(f"{parse_reference(ns.name, default_tag=not ns.all_tags)}\n")
    return 0

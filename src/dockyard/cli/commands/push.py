"""`dockyard push [-a] [-q] [--platform P] NAME[:TAG]`."""

from __future__ import annotations

import sys

from dockyard.cli.client import path_id
from dockyard.cli.credentials import auth_header
from dockyard.cli.flags import Parser
from dockyard.cli.progress import display_on_terminal
from dockyard.oci.reference import parse_reference


def main(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "[OPTIONS] NAME[:TAG]", "Upload an image to a registry")
    parser.add_argument("-a", "--all-tags", action="store_true")
    parser.add_argument("-q", "--quiet", action="store_true")
    parser.add_argument("--platform")
    parser.add_argument("--disable-content-trust", action="store_true")
    parser.add_argument("name")
    ns = parser.parse(argv)
    ref = parse_reference(ns.name, default_tag=False)
    name, explicit = ref.familiar_name(), bool(ref.tag or ref.digest)
    query = {"tag": None if ns.all_tags or not explicit else ref.object, "platform": ns.platform}
    if not ns.all_tags and not explicit:
        sys.stdout.write("Using default tag: latest\n")
        query["tag"] = "latest"
    response = ctx.client.request("POST", f"/images/{path_id(name)}/push", query, headers=auth_header(ns.name))
    display_on_terminal(response, sys.stdout, quiet=ns.quiet)
    if ns.quiet:
        sys.stdout.write(f"{ns.name}\n")
    return 0

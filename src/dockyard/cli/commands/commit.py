"""`dockyard commit [-a AUTHOR] [-m MESSAGE] [-c CHANGE] [-p] CONTAINER [REPOSITORY[:TAG]]`."""

from __future__ import annotations

import sys

from dockyard.cli.flags import Parser, boolean, multi
from dockyard.oci.reference import parse_reference


def main(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]", "Create a new image from a container's changes")
    parser.add_argument("-a", "--author")
    parser.add_argument("-m", "--message")
    multi(parser, "-c", "--change", dest="change")
    boolean(parser, "-p", "--pause", default=True)
    parser.add_argument("container")
    parser.add_argument("reference", nargs="?")
    ns = parser.parse(argv)
    ref = parse_reference(ns.reference) if ns.reference else None
    repo, tag = (ref.familiar_name(), ref.object) if ref else (None, None)
    query = {
        "container": ns.container,
        "repo": repo,
        "tag": tag,
        "comment": ns.message,
        "author": ns.author,
        "changes": ns.change or None,
        "pause": ns.pause,
    }
    result = ctx.client.post("/commit", query, {}) or {}
    sys.stdout.write(f"{result.get('Id', '')}\n")
    return 0

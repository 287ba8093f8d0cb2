"""`dockyard load [-i FILE] [-q] [--platform P]`: a `docker save` archive from a file or stdin."""

from __future__ import annotations

import sys

from dockyard.cli.commands.import_ import open_source
from dockyard.cli.flags import Parser, UsageError
from dockyard.cli.progress import display_stream
from dockyard.cli.terminal import is_tty


def main(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "[OPTIONS]", "Load an image from a tar archive or STDIN")
    parser.add_argument("-i", "--input")
    parser.add_argument("-q", "--quiet", action="store_true")
    parser.add_argument("--platform")
    ns = parser.parse(argv)
    if not ns.input and is_tty(sys.stdin):
        raise UsageError("requested load from stdin, but stdin is empty")
    source, length = open_source(ns.input or "-")
    query = {"quiet": ns.quiet or None, "platform": ns.platform}
    with source:
        response = ctx.client.upload("POST", "/images/load", query, source, "application/x-tar", length)
    if "json" in response.headers.get("content-type", ""):
        display_stream(response, sys.stdout, is_tty(sys.stdout) and not ns.quiet)
    else:
        sys.stdout.write(response.read().decode(errors="replace"))
    return 0

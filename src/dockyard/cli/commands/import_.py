"""`dockyard import [-c CHANGE] [-m MESSAGE] [--platform P] file|- [REPOSITORY[:TAG]]`."""

from __future__ import annotations

import os
import sys

from dockyard.cli.flags import Parser, UsageError, multi
from dockyard.cli.progress import display_stream
from dockyard.oci.reference import parse_reference


def open_source(source: str):
    """(binary file, length or None) for a path, or stdin for '-'."""
    if source == "-":
        return sys.stdin.buffer, None
    handle = open(source, "rb")
    return handle, os.fstat(handle.fileno()).st_size


def main(ctx, argv: list[str]) -> int:
    parser = Parser(
        ctx.prog,
        "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
        "Import the contents from a tarball to create a filesystem image",
    )
    multi(parser, "-c", "--change", dest="change")
    parser.add_argument("-m", "--message")
    parser.add_argument("--platform")
    parser.add_argument("source")
    parser.add_argument("reference", nargs="?")
    ns = parser.parse(argv)
    if "://" in ns.source:
        raise UsageError("importing from a URL is not supported by dockyard; download the file first")
    ref = parse_reference(ns.reference) if ns.reference else None
    repo, tag = (ref.familiar_name(), ref.object) if ref else (None, None)
    query = {
        "fromSrc": "-",
        "repo": repo,
        "tag": tag,
        "message": ns.message,
        "changes": ns.change or None,
        "platform": ns.platform,
    }
    source, length = open_source(ns.source)
    with source:
        response = ctx.client.upload("POST", "/images/create", query, source, "application/x-tar", length)
    messages = display_stream(response, sys.stdout, False, quiet=True)
    image_id = next((m["status"] for m in reversed(messages) if m.get("status")), "")
    sys.stdout.write(f"{image_id}\n")
    return 0

"""`dockyard export [-o FILE] CONTAINER`: the container's filesystem as a tar, never to a terminal."""

from __future__ import annotations

import sys

from dockyard import atomic
from dockyard.cli.client import path_id
from dockyard.cli.flags import Parser, UsageError
from dockyard.cli.hijack import write_all
from dockyard.cli.terminal import is_tty


def write_stream(response, output: str | None) -> None:
    """Copy a response body to stdout, or atomically into a file (temp name, then rename)."""
    if not output:
        for chunk in response.iter_raw():
            write_all(sys.stdout.fileno(), chunk)
        return
    with atomic.replacing(output, mode=0o666) as handle:
        for chunk in response.iter_raw():
            handle.write(chunk)


def main(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "[OPTIONS] CONTAINER", "Export a container's filesystem as a tar archive")
    parser.add_argument("-o", "--output")
    parser.add_argument("container")
    ns = parser.parse(argv)
    if not ns.output and is_tty(sys.stdout):
        raise UsageError("cowardly refusing to save to a terminal. Use the -o flag or redirect", exit_code=1)
    write_stream(ctx.client.request("GET", f"/containers/{path_id(ns.container)}/export"), ns.output)
    return 0

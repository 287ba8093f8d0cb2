"""`dockyard logs [-f] [--tail N] [-t] [--since T] [--until T] [--details] CONTAINER`."""

from __future__ import annotations

import sys

from dockyard.cli.client import path_id
from dockyard.cli.flags import Parser
from dockyard.cli.hijack import write_all
from dockyard.multiplex import STDERR, FrameDecoder
from dockyard.timestamps import api_timestamp


def main(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "[OPTIONS] CONTAINER", "Fetch the logs of a container")
    parser.add_argument("-f", "--follow", action="store_true")
    parser.add_argument("-n", "--tail", default="all")
    parser.add_argument("-t", "--timestamps", action="store_true")
    parser.add_argument("--since")
    parser.add_argument("--until")
    parser.add_argument("--details", action="store_true")
    parser.add_argument("container")
    ns = parser.parse(argv)
    client = ctx.client
    info = client.get(f"/containers/{path_id(ns.container)}/json")
    query = {
        "stdout": True,
        "stderr": True,
        "follow": ns.follow or None,
        "tail": ns.tail,
        "timestamps": ns.timestamps or None,
        "details": ns.details or None,
        "since": api_timestamp(ns.since) if ns.since else None,
        "until": api_timestamp(ns.until) if ns.until else None,
    }
    response = client.request("GET", f"/containers/{path_id(info['Id'])}/logs", query)
    copy_stream(response, tty=bool((info.get("Config") or {}).get("Tty")))
    return 0


def copy_stream(response, tty: bool, stdout_fd: int | None = None, stderr_fd: int | None = None) -> None:
    """Copy a raw (TTY) or multiplexed body to stdout/stderr as it arrives."""
    out = sys.stdout.fileno() if stdout_fd is None else stdout_fd
    err = sys.stderr.fileno() if stderr_fd is None else stderr_fd
    sys.stdout.flush()
    decoder = None if tty else FrameDecoder()
    for chunk in response.iter_raw():
        if decoder is None:
            write_all(out, chunk)
            continue
        for stream, payload in decoder.feed(chunk):
            write_all(err if stream == STDERR else out, payload)

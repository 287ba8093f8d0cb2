"""`dockyard save [-o FILE] [--platform P] IMAGE...`: never to a terminal."""

from __future__ import annotations

import sys

from dockyard.cli.commands.export import write_stream
from dockyard.cli.flags import Parser, UsageError
from dockyard.cli.terminal import is_tty


def main(ctx, argv: list[str]) -> int:
    parser = Parser(
        ctx.prog,
        "[OPTIONS] IMAGE [IMAGE...]",
        "Save one or more images to a tar archive (streamed to STDOUT by default)",
    )
    parser.add_argument("-o", "--output")
    parser.add_argument("--platform")
    parser.add_argument("images", nargs="+")
    ns = parser.parse(argv)
    if not ns.output and is_tty(sys.stdout):
        raise UsageError("cowardly refusing to save to a terminal. Use the -o flag or redirect", exit_code=1)
    write_stream(ctx.client.request("GET", "/images/get", {"names": ns.images, "platform": ns.platform}), ns.output)
    return 0

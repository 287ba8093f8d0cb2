"""`dockyard create [OPTIONS] IMAGE [COMMAND] [ARG...]`, and the create-or-pull step `run` shares."""

from __future__ import annotations

import os
import sys

from dockyard.cli.envflags import read_env_files
from dockyard.cli.runopts import container_parser, container_request
from dockyard.cli.terminal import is_tty, size
from dockyard.errors import NotFound


def build_request(ns, detached: bool) -> tuple[dict, dict]:
    """Flags -> create query and body, with the terminal size when -t runs on a terminal."""
    console = size(sys.stdout.fileno()) if ns.tty and is_tty(sys.stdout) else None
    return container_request(ns, dict(os.environ), read_env_files(ns.env_file), detached, console)


def create_container(
    ctx, query: dict, body: dict, pull: str = "missing", platform: str | None = None, quiet: bool = False
) -> str:
    """POST /containers/create; on "No such image" pull (unless --pull=never) and try again."""
    image = body["Image"]
    if pull == "always":
        _pull(ctx, image, platform, quiet)
    try:
        created = ctx.client.post("/containers/create", query, body)
    except NotFound as exc:
        if pull == "never" or "No such image" not in str(exc):
            raise
        _pull(ctx, image, platform, quiet, announce=True)
        created = ctx.client.post("/containers/create", query, body)
    for warning in created.get("Warnings") or []:
        sys.stderr.write(f"WARNING: {warning}\n")
    return created["Id"]


def _pull(ctx, image: str, platform: str | None, quiet: bool, announce: bool = False) -> None:
    """Pull with progress on stderr, as `docker run` does (imported only when needed)."""
    from dockyard.cli.commands.pull import pull_image
    from dockyard.oci.reference import parse_reference

    if announce:
        sys.stderr.write(f"Unable to find image '{parse_reference(image).familiar()}' locally\n")
    pull_image(ctx, image, platform, out=sys.stderr, quiet=quiet)


def write_cidfile(path: str | None, container_id: str) -> None:
    if path:
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(container_id)


def main(ctx, argv: list[str]) -> int:
    ns = container_parser(ctx.prog, run=False).parse(argv)
    query, body = build_request(ns, detached=False)
    container_id = create_container(ctx, query, body, ns.pull, ns.platform, ns.quiet)
    write_cidfile(ns.cidfile, container_id)
    sys.stdout.write(container_id + "\n")
    return 0

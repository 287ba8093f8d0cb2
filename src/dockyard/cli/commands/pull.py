"""`dockyard pull [-q] [-a] [--platform P] NAME[:TAG|@DIGEST]`."""

from __future__ import annotations

import sys

from dockyard.cli.credentials import auth_header
from dockyard.cli.flags import Parser
from dockyard.cli.progress import display_on_terminal


def split_reference(ref: str) -> tuple[str, str]:
    """'busybox' -> ('busybox', 'latest'); 'h:5000/x@sha256:..' -> ('h:5000/x', 'sha256:..')."""
    if "@" in ref:
        name, _, digest = ref.partition("@")
        return name, digest
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        return ref[:colon], ref[colon + 1 :]
    return ref, "latest"


def canonical(ref: str) -> str:
    """'busybox' -> 'docker.io/library/busybox:latest', the line docker prints after a pull."""
    name, tag = split_reference(ref)
    first, sep, _ = name.partition("/")
    if not sep or not ("." in first or ":" in first or first == "localhost"):
        name = f"docker.io/{name if sep else 'library/' + name}"
    return f"{name}@{tag}" if tag.startswith("sha256:") else f"{name}:{tag}"


def familiar(ref: str) -> str:
    """'busybox' -> 'busybox:latest', as docker names the image in messages."""
    name, tag = split_reference(ref)
    return f"{name}@{tag}" if tag.startswith("sha256:") else f"{name}:{tag}"


def pull_image(
    ctx, ref: str, platform: str | None = None, out=None, quiet: bool = False, all_tags: bool = False
) -> list[dict]:
    """POST /images/create and show its progress on `out` (stdout by default)."""
    out = out or sys.stdout
    name, tag = split_reference(ref)
    query = {"fromImage": name, "tag": None if all_tags else tag, "platform": platform or None}
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
    sys.stdout.write((ns.name.partition(":")[0] if ns.all_tags else canonical(ns.name)) + "\n")
    return 0

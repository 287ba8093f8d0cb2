"""`dockyard images [-a] [-q] [--no-trunc] [--digests] [-f FILTER] [--format FORMAT] [REPOSITORY[:TAG]]`."""

from __future__ import annotations

import sys

from dockyard.cli.filters import parse_filters
from dockyard.cli.flags import Parser, multi
from dockyard.cli.rows import ImageRow, image_rows
from dockyard.cli.tables import render

DEFAULT_FORMAT = (
    "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}"
)
DIGEST_FORMAT = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}"


def choose_format(fmt: str | None, quiet: bool, digests: bool) -> str:
    if quiet:
        return "{{.ID}}"
    if not fmt or fmt == "table":
        return DIGEST_FORMAT if digests else DEFAULT_FORMAT
    if fmt.startswith("table") and digests and "{{.Digest}}" not in fmt:
        return fmt + "\t{{.Digest}}"
    return fmt


def list_rows(images: list[dict], fmt: str, digests: bool, trunc: bool) -> list[ImageRow]:
    """One row per repository:tag as docker lists them (so `-q` repeats an ID with two tags)."""
    need_digest = digests or "{{.Digest}}" in fmt
    return [row for image in images for row in image_rows(image, need_digest, trunc)]


def main(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "[OPTIONS] [REPOSITORY[:TAG]]", "List images")
    parser.add_argument("-a", "--all", action="store_true")
    parser.add_argument("-q", "--quiet", action="store_true")
    parser.add_argument("--no-trunc", action="store_true")
    parser.add_argument("--digests", action="store_true")
    parser.add_argument("--format")
    multi(parser, "-f", "--filter", dest="filter")
    parser.add_argument("reference", nargs="?")
    ns = parser.parse(argv)
    filters = parse_filters(ns.filter) or {}
    if ns.reference:
        filters.setdefault("reference", {})[ns.reference] = True
    images = ctx.client.get("/images/json", {"all": ns.all or None, "filters": filters or None}) or []
    fmt = choose_format(ns.format, ns.quiet, ns.digests)
    rows = list_rows(images, fmt, ns.digests, not ns.no_trunc)
    sys.stdout.write(render(fmt, rows, ImageRow.HEADERS))
    return 0

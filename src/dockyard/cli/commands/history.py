"""`dockyard history [-H] [--no-trunc] [-q] [--format FORMAT] IMAGE`."""

from __future__ import annotations

import sys

from dockyard.cli.client import path_id
from dockyard.cli.flags import Parser, boolean
from dockyard.cli.rows import Row, rfc3339, since
from dockyard.cli.tables import render
from dockyard.units import ellipsis, human_size, truncate_id

DEFAULT_FORMAT = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"


class HistoryRow(Row):
    HEADERS = {
        "ID": "IMAGE",
        "CreatedSince": "CREATED",
        "CreatedAt": "CREATED AT",
        "CreatedBy": "CREATED BY",
        "Size": "SIZE",
        "Comment": "COMMENT",
    }

    def __init__(self, data: dict, human: bool, trunc: bool, now: float | None = None) -> None:
        self.data, self.human, self.trunc, self.now = data, human, trunc, now

    @property
    def ID(self) -> str:
        ident = self.data.get("Id") or "<missing>"
        return truncate_id(ident) if self.trunc and ident != "<missing>" else ident

    @property
    def CreatedSince(self) -> str:
        created = self.data.get("Created") or 0
        return since(created, self.now) if self.human else rfc3339(created)

    @property
    def CreatedAt(self) -> str:
        return rfc3339(self.data.get("Created") or 0)

    @property
    def CreatedBy(self) -> str:
        text = (self.data.get("CreatedBy") or "").replace("\t", " ")
        return ellipsis(text, 45) if self.trunc else text

    @property
    def Size(self) -> str:
        size = self.data.get("Size") or 0
        return human_size(size, 3) if self.human else str(size)

    @property
    def Comment(self) -> str:
        return self.data.get("Comment") or ""


def main(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "[OPTIONS] IMAGE", "Show the history of an image")
    boolean(parser, "-H", "--human", default=True)
    parser.add_argument("--no-trunc", action="store_true")
    parser.add_argument("-q", "--quiet", action="store_true")
    parser.add_argument("--format")
    parser.add_argument("image")
    ns = parser.parse(argv)
    human = ns.human
    layers = ctx.client.get(f"/images/{path_id(ns.image)}/history") or []
    fmt = "{{.ID}}" if ns.quiet else (ns.format if ns.format and ns.format != "table" else DEFAULT_FORMAT)
    rows = [HistoryRow(layer, human, not ns.no_trunc) for layer in layers]
    sys.stdout.write(render(fmt, rows, HistoryRow.HEADERS))
    return 0

"""Docker's `--format` handling over rows: `table` prefix, header row, tab-aligned columns."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from dockyard.cli.formatting import Template

TABLE_PREFIX = "table"


def tabwrite(lines: list[str], minwidth: int = 10, padding: int = 3) -> str:
    """Align tab-separated cells like Go's tabwriter(minwidth 10, padding 3): the last cell is not padded."""
    rows = [line.split("\t") for line in "\n".join(lines).split("\n")]
    widths: list[int] = []
    for cells in rows:
        for index, cell in enumerate(cells[:-1]):
            width = max(minwidth, len(cell) + padding)
            if index == len(widths):
                widths.append(width)
            elif width > widths[index]:
                widths[index] = width
    out = []
    for cells in rows:
        padded = [cell.ljust(widths[index]) for index, cell in enumerate(cells[:-1])]
        out.append("".join(padded) + cells[-1])
    return "".join(line + "\n" for line in out)


class HeaderContext:
    """Stands in for a row when rendering the header: each field renders as its column title."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers = headers

    def __getattr__(self, name: str) -> object:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._headers.get(name, "")

    def Label(self, key: str) -> str:
        return "LABEL"


def prepare(fmt: str) -> tuple[bool, str]:
    """Split docker's format into (is_table, template text), turning `\\t`/`\\n` escapes into characters."""
    is_table = fmt.startswith(TABLE_PREFIX)
    if is_table:
        fmt = fmt[len(TABLE_PREFIX) :]
    elif fmt == "json":
        fmt = "{{json .}}"
    fmt = fmt.strip(" ").replace("\\t", "\t").replace("\\n", "\n")
    return is_table, fmt


def render(fmt: str, rows: Iterable[object], headers: Mapping[str, str]) -> str:
    """Render rows with a docker format string; tables get a header and aligned columns."""
    is_table, text = prepare(fmt)
    template = Template(text)
    lines = [template.render(row) for row in rows]
    if not is_table:
        return "".join(line + "\n" for line in lines)
    header = template.render(HeaderContext(headers))
    return tabwrite([header, *lines])

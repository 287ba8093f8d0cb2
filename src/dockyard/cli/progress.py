"""Render NDJSON progress (pull, push, load, import) the way docker's jsonmessage does.

On a terminal each layer ID owns a line that is rewritten in place with a progress bar;
elsewhere only status changes are printed, one line each, and progress updates are skipped.
"""

from __future__ import annotations

from dockyard.cli.streams import JSONLineDecoder
from dockyard.cli.terminal import is_tty, size
from dockyard.errors import RuntimeFailure
from dockyard.units import human_size

BAR_WIDTH = 50


class StreamError(RuntimeFailure):
    """An error message inside a progress stream (the daemon answered 200, then failed)."""


def progress_bar(detail: dict, width: int = 120) -> str:
    """'[=====>       ]  1.2MB/4.5MB' from a progressDetail {current, total}."""
    current, total = detail.get("current", 0) or 0, detail.get("total", 0) or 0
    if current <= 0 and total <= 0:
        return ""
    if total <= 0:
        return f"{human_size(current):>8}"
    filled = min(BAR_WIDTH, int(current / total * 100) // 2)
    bar = ""
    if width > 110:
        bar = "[" + "=" * filled + ">" + " " * (BAR_WIDTH - filled) + "] "
    numbers = f"{human_size(current):>8}/{human_size(total)}" if current <= total else f"{human_size(current):>8}"
    return bar + numbers


def render_line(message: dict, tty: bool, width: int = 120) -> str | None:
    """One message as text (no newline; a build's `stream` text verbatim), or None when there is
    nothing to show (aux data, progress updates off a terminal)."""
    if message.get("errorDetail") or message.get("error"):
        detail = message.get("errorDetail") or {}
        raise StreamError(detail.get("message") or message.get("error"))
    prefix = f"{message['id']}: " if message.get("id") else ""
    status = message.get("status", "")
    if message.get("stream") is not None and not status:
        return message["stream"]
    if "aux" in message and not status:
        return None
    detail = message.get("progressDetail") or {}
    if detail or message.get("progress"):
        if not tty:
            return None
        bar = progress_bar(detail, width) if detail else message.get("progress", "")
        return f"{prefix}{status} {bar}".rstrip()
    return f"{prefix}{status}"


class Display:
    """Writes messages to a stream; on a TTY each ID's line is rewritten in place."""

    def __init__(self, out, tty: bool, width: int = 120) -> None:
        self.out, self.tty, self.width = out, tty, width
        self.lines: dict[str, int] = {}

    def show(self, message: dict) -> None:
        text = render_line(message, self.tty, self.width)
        if text is None:
            return
        ident = message.get("id")
        if message.get("stream") is not None and not message.get("status"):
            self.out.write(text)
        elif self.tty and ident:
            self._rewrite(ident, text)
        else:
            self.lines.clear()
            self.out.write(text + "\n")
        self.out.flush()

    def _rewrite(self, ident: str, text: str) -> None:
        if ident not in self.lines:
            self.lines[ident] = len(self.lines)
            self.out.write("\n")
        up = len(self.lines) - self.lines[ident]
        self.out.write(f"\x1b[{up}A\x1b[2K\r{text}\r\x1b[{up}B")


def display_on_terminal(response, out, quiet: bool = False) -> list[dict]:
    """display_stream with bars sized to `out` when it is a terminal (pull and push)."""
    tty = is_tty(out)
    width = (size(out.fileno()) or (0, 120))[1] if tty else 120
    return display_stream(response, out, tty, width, quiet=quiet)


def display_stream(response, out, tty: bool, width: int = 120, quiet: bool = False) -> list[dict]:
    """Show a progress stream as it arrives; return every message. Raises StreamError."""
    decoder = JSONLineDecoder()
    display = Display(out, tty, width)
    handle = (lambda message: render_line(message, False)) if quiet else display.show
    messages: list[dict] = []
    for chunk in response.iter_raw():
        for message in decoder.feed(chunk):
            messages.append(message)
            handle(message)
    for message in decoder.close():
        messages.append(message)
        handle(message)
    return messages

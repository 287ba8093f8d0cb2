"""The local terminal: raw mode (restored on exit), its size, and resize notifications."""

from __future__ import annotations

import os
import sys


def is_tty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def size(fd: int = 1) -> tuple[int, int] | None:
    """(rows, columns) of the terminal on fd, or None when it is not one."""
    try:
        columns, rows = os.get_terminal_size(fd)
    except OSError:
        return None
    return rows, columns


class RawMode:
    """fd's terminal in raw mode for the block, when `enabled` and fd is a terminal (a class:
    contextlib would cost every command that asks is_tty ~1 ms of imports)."""

    def __init__(self, fd: int, enabled: bool = True) -> None:
        self._fd, self._enabled = fd, enabled
        self._saved: list | None = None

    def __enter__(self) -> None:
        if self._enabled and os.isatty(self._fd):
            import termios
            import tty

            self._saved = termios.tcgetattr(self._fd)
            tty.setraw(self._fd, termios.TCSANOW)

    def __exit__(self, *exc_info: object) -> None:
        if self._saved is not None:
            import termios

            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)


def on_resize(callback) -> None:
    """Call callback(rows, columns) now and, on the signal watcher's thread, on every SIGWINCH."""
    import signal

    from dockyard.cli import signalwatch

    def resized(signum: int | None = None) -> None:
        dims = size(sys.stdout.fileno())
        if dims:
            callback(*dims)

    signalwatch.watch([signal.SIGWINCH], resized)
    resized()

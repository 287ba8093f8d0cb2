"""The local terminal: raw mode (restored on exit), its size, and resize notifications."""

from __future__ import annotations

import os
import signal
import sys
from contextlib import contextmanager


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


@contextmanager
def raw_mode(fd: int):
    """Put fd's terminal in raw mode for the block; a no-op when fd is not a terminal."""
    if not os.isatty(fd):
        yield
        return
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd, termios.TCSANOW)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def on_resize(callback) -> None:
    """Call callback(rows, columns) now and on every SIGWINCH."""

    def handler(signum=None, frame=None) -> None:
        dims = size(sys.stdout.fileno())
        if dims:
            callback(*dims)

    signal.signal(signal.SIGWINCH, handler)
    handler()

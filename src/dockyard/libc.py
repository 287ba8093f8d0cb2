"""The C library through ctypes, loaded once, for the calls Python lacks (mount, setns, syncfs...)."""

from __future__ import annotations

import ctypes
import os

LIBC = ctypes.CDLL(None, use_errno=True)


def errno_message() -> str:
    """strerror of the errno the last libc call through LIBC set."""
    return os.strerror(ctypes.get_errno())


def check(result: int) -> int:
    """Return a libc call's result, or raise OSError from errno when it is -1."""
    if result == -1:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result

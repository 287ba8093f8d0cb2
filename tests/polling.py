"""Waiting in tests for what another thread or process makes true."""

from __future__ import annotations

import time
from collections.abc import Callable


def eventually(condition: Callable[[], object], timeout: float = 5.0, interval: float = 0.01) -> bool:
    """Whether `condition()` became true within `timeout` seconds (polled every `interval`)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True

"""Waiting in tests for what another thread or process makes true."""

from __future__ import annotations

import time
from collections.abc import Callable


def eventually(
    predicate: Callable[[], object],
    timeout: float = 5.0,
    what: str = "condition not reached in time",
    interval: float = 0.005,
) -> None:
    """Wait until predicate() holds; fail the test with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(interval)

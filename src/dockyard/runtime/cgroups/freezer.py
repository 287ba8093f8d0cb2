"""Freezer: pause and resume every process of a task (v1 freezer.state, v2 cgroup.freeze)."""

from __future__ import annotations

import os
import time

FREEZE_TIMEOUT = 5.0


def _v1_state(path: str) -> str:
    with open(os.path.join(path, "freezer.state")) as f:
        return f.read().strip()


def freeze(path: str, version: int) -> None:
    """Freeze the cgroup at `path` and wait until the kernel says it is frozen."""
    name, value, done = ("freezer.state", "FROZEN", "FROZEN") if version == 1 else ("cgroup.freeze", "1", "frozen 1")
    with open(os.path.join(path, name), "w") as f:
        f.write(value)
    deadline = time.monotonic() + FREEZE_TIMEOUT
    while not _is(path, version, done):
        if time.monotonic() > deadline:
            thaw(path, version)
            raise OSError(f"timed out freezing {path}")
        time.sleep(0.001)


def thaw(path: str, version: int) -> None:
    """Let the cgroup's processes run again."""
    name, value = ("freezer.state", "THAWED") if version == 1 else ("cgroup.freeze", "0")
    with open(os.path.join(path, name), "w") as f:
        f.write(value)


def _is(path: str, version: int, done: str) -> bool:
    if version == 1:
        return _v1_state(path) == done
    with open(os.path.join(path, "cgroup.events")) as f:
        return done in f.read().splitlines()

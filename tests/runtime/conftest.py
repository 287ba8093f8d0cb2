"""Fixtures for runtime tests: a busybox rootfs in tmp_path and a ShimRuntime to drive it."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from dockyard.errors import NotFound
from dockyard.runtime.client import ShimRuntime
from tests.runtime.busybox import build_rootfs


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    return build_rootfs(tmp_path / "rootfs")


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    path = tmp_path / "task"
    path.mkdir()
    return path


@pytest.fixture
def runtime(state_dir: Path):
    """A ShimRuntime; at teardown any task still alive in state_dir is killed and deleted."""
    rt = ShimRuntime()
    yield rt
    try:
        _reap(rt, state_dir)
    finally:
        rt.close()  # the fork-server this runtime started


def _reap(rt: ShimRuntime, state_dir: Path) -> None:
    for task_dir in [state_dir, *state_dir.glob("execs/*")]:
        try:
            if rt.state(task_dir).status != "stopped":
                rt.kill(task_dir, signal.SIGKILL)
                rt.wait(task_dir, timeout=10)
            rt.delete(task_dir)
        except NotFound:
            pass  # never created (a test that failed before create)

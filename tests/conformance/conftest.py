"""Each Protocol's implementations, as one parametrised fixture: the fake always, the real
one where the host allows it (root, overlayfs, namespaces; marked `root`, skipped otherwise)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard.errors import NotFound
from dockyard.paths import DataRoot
from dockyard.testing import FakeRuntime, FakeSnapshotter


@pytest.fixture(params=["fake", pytest.param("shim", marks=pytest.mark.root)])
def runtime(request, tmp_path: Path) -> Iterator:
    """A Runtime; at teardown every task left under tmp_path is killed and deleted."""
    if request.param == "fake":
        rt = FakeRuntime()
    else:
        from dockyard.runtime.client import ShimRuntime

        rt = ShimRuntime()
    yield rt
    for task_dir in sorted((p for p in tmp_path.glob("**/task*") if p.is_dir()), reverse=True):
        try:
            if rt.state(task_dir).status != "stopped":
                rt.kill(task_dir, signal.SIGKILL)
                rt.wait(task_dir, timeout=10)
            rt.delete(task_dir)
        except NotFound:
            pass
    if request.param == "shim":
        rt.close()


@pytest.fixture(params=["fake", pytest.param("overlay", marks=pytest.mark.root)])
def snapshotter(request, tmp_path: Path) -> Iterator:
    """A Snapshotter over a fresh data root; at teardown every snapshot is removed (unmounted)."""
    root = DataRoot(tmp_path / "data")
    if request.param == "fake":
        snapshots = FakeSnapshotter(root)
    else:
        from dockyard.snapshots.overlay import OverlaySnapshotter

        snapshots = OverlaySnapshotter(root)
    yield snapshots
    for directory in root.containers.iterdir():
        snapshots.remove(directory.name)

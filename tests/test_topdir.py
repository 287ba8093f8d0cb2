"""The TOPDIR hint: set where the filesystem has it, a no-op where it has not."""

from __future__ import annotations

import array
import fcntl
import os
import tempfile
from pathlib import Path

import pytest

from dockyard.paths import DataRoot
from dockyard.topdir import FS_IOC_GETFLAGS, FS_TOPDIR_FL, mark_top_directory


def flags(path: Path) -> int:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        value = array.array("i", [0])
        fcntl.ioctl(fd, FS_IOC_GETFLAGS, value, True)
        return value[0]
    finally:
        os.close(fd)


@pytest.fixture
def ext4_dir():
    """A directory on an ext4 filesystem (the data root's usual home), or a skip."""
    with open("/proc/self/mounts") as f:
        ext4 = [line.split()[1] for line in f if line.split()[2] == "ext4"]
    home = next((p for p in ("/var/tmp", "/var/lib", "/tmp") if any(p.startswith(m) for m in ext4)), None)
    if home is None:
        pytest.skip("no ext4 filesystem here")
    path = Path(tempfile.mkdtemp(dir=home))
    yield path
    for directory, _subdirs, files in os.walk(path, topdown=False):
        for name in files:
            os.unlink(os.path.join(directory, name))
        os.rmdir(directory)


def test_a_directory_on_ext4_is_marked_once(ext4_dir):
    assert not flags(ext4_dir) & FS_TOPDIR_FL
    assert mark_top_directory(ext4_dir)
    assert flags(ext4_dir) & FS_TOPDIR_FL
    assert mark_top_directory(ext4_dir)  # idempotent


def test_a_filesystem_without_the_flag_is_left_alone():
    path = Path(tempfile.mkdtemp(dir="/dev/shm"))
    try:
        assert mark_top_directory(path) is False
    finally:
        path.rmdir()


def test_the_data_root_spreads_layers_containers_volumes_and_scratch(ext4_dir):
    root = DataRoot(ext4_dir / "data")
    root.create()
    marked = {p.name for p in (root.layers, root.containers, root.volumes, root.tmp) if flags(p) & FS_TOPDIR_FL}
    assert marked == {"layers", "containers", "volumes", "tmp"}
    assert not flags(root.blobs) & FS_TOPDIR_FL

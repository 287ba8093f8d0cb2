"""A full disk: the data root on a 64 MiB loop-mounted ext4, filled to several levels.

A load or pull that runs out of space fails with Docker's `no space left on device`, leaves
nothing half made (tests/e2e/invariants.py), the daemon keeps serving, and the same load or
pull works once space is freed.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.distribution.conftest import start_registry
from tests.e2e.daemon import Daemon
from tests.e2e.invariants import assert_sound

pytestmark = pytest.mark.root

MIB = 1 << 20
LAYER_MIB = 8


@pytest.fixture
def loop_daemon(tmp_path):
    """A daemon whose data root is a fresh 64 MiB ext4 on a loop device (all undone after)."""
    image = tmp_path / "fs.img"
    with open(image, "wb") as f:
        f.truncate(64 * MIB)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", str(image)], check=True)
    device = subprocess.run(["losetup", "-f", "--show", str(image)], check=True, capture_output=True, text=True)
    device = device.stdout.strip()
    daemon = Daemon()
    daemon.data_root.mkdir()
    try:
        subprocess.run(["mount", device, str(daemon.data_root)], check=True)
        try:
            yield daemon.start()
        finally:
            daemon.cleanup()  # unmounts (lazily) what is under its base, the loop fs too
    finally:
        subprocess.run(["losetup", "-d", device], check=False)


def free_bytes(path: Path) -> int:
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def fill_to(daemon: Daemon, free: int) -> Path:
    """A filler file outside the daemon's own directories that leaves about `free` bytes."""
    filler = daemon.data_root / "filler"
    filler.unlink(missing_ok=True)
    size = max(free_bytes(daemon.data_root) - free, 0)
    with open(filler, "wb") as f:
        chunk = b"\0" * MIB
        for _ in range(size // MIB):
            f.write(chunk)
        f.write(b"\0" * (size % MIB))
    return filler


def image_archive(rootfs: bytes, mib: int, tag: str) -> bytes:
    """A `docker save` archive: busybox's rootfs plus a layer holding `mib` MiB of random bytes."""
    blob = io.BytesIO()
    with tarfile.open(fileobj=blob, mode="w") as tar:
        info = tarfile.TarInfo("blob")
        info.size = mib * MIB
        tar.addfile(info, io.BytesIO(os.urandom(info.size)))
    layers = {"base.tar": rootfs, "top.tar": blob.getvalue()}
    diff_ids = ["sha256:" + hashlib.sha256(data).hexdigest() for data in layers.values()]
    config = {"architecture": "amd64", "os": "linux", "config": {}, "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    files = {
        **layers,
        "config.json": json.dumps(config).encode(),
        "manifest.json": json.dumps([{"Config": "config.json", "RepoTags": [tag], "Layers": list(layers)}]).encode(),
    }
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


@pytest.mark.parametrize("free_mib", [3, 11, 19])  # runs out while spooling, storing, unpacking
def test_a_load_on_a_full_disk_fails_cleanly_and_works_once_space_is_freed(loop_daemon, busybox_tar, free_mib):
    daemon = loop_daemon
    daemon.import_busybox()
    archive = image_archive(busybox_tar.read_bytes(), LAYER_MIB, "full/img:v1")
    images_before = daemon.cli("images", "-q", "--no-trunc").stdout
    filler = fill_to(daemon, free_mib * MIB)
    failed = daemon.docker("load", input=archive, check=False)
    assert failed.returncode != 0
    assert "no space left on device" in (failed.stdout + failed.stderr).decode(errors="replace")
    assert daemon.ping() and daemon.cli("images", "-q", "--no-trunc").stdout == images_before
    filler.unlink()
    assert_sound(daemon)
    assert b"Loaded image: full/img:v1" in daemon.docker("load", input=archive).stdout
    assert daemon.docker("run", "--rm", "full/img:v1", "test", "-s", "/blob").returncode == 0
    assert_sound(daemon)


def test_a_pull_on_a_full_disk_fails_cleanly_and_works_once_space_is_freed(loop_daemon, busybox_tar, tmp_path):
    registry = start_registry(tmp_path / "registry")
    try:
        daemon = loop_daemon
        daemon.import_busybox()
        daemon.docker("load", input=image_archive(busybox_tar.read_bytes(), LAYER_MIB, "full/img:v1"))
        name = f"{registry.address}/full/img:v1"
        daemon.docker("tag", "full/img:v1", name)
        daemon.docker("push", name)
        daemon.docker("rmi", "full/img:v1", name)
        filler = fill_to(daemon, 5 * MIB)
        failed = daemon.docker("pull", name, check=False)
        assert failed.returncode != 0 and "no space left on device" in failed.stdout + failed.stderr
        assert daemon.ping() and name not in daemon.docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout
        filler.unlink()
        assert_sound(daemon)
        assert "Pull complete" in daemon.docker("pull", name).stdout
        assert daemon.docker("run", "--rm", name, "test", "-s", "/blob").returncode == 0
        assert_sound(daemon)
    finally:
        registry.stop()

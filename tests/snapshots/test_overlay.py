"""OverlaySnapshotter on real overlayfs mounts under a temporary data root."""

from __future__ import annotations

import gzip
import io
import os
import shutil
import stat
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard.errors import Conflict, InvalidArgument, NotFound
from dockyard.oci.digest import Digest, chain_id
from dockyard.paths import DataRoot
from dockyard.snapshots import mountinfo
from dockyard.snapshots.mountinfo import is_mounted, lists_mount_point
from dockyard.snapshots.overlay import OverlaySnapshotter, short_name
from dockyard.snapshots.snapshotter import DiffIdMismatch
from tests.archive.archive_support import build_tar

pytestmark = pytest.mark.root
DIR = tarfile.DIRTYPE


@pytest.fixture
def root(tmp_path: Path) -> DataRoot:
    return DataRoot(tmp_path / "data")


@pytest.fixture
def snapshotter(root: DataRoot) -> Iterator[OverlaySnapshotter]:
    snapshotter = OverlaySnapshotter(root)
    yield snapshotter
    for directory in root.containers.iterdir():
        snapshotter.remove(directory.name)  # unmount whatever a failed test left mounted


def _stack(snapshotter: OverlaySnapshotter, layers: list[bytes]) -> Digest:
    """Unpack layers bottom first; return the top chain ID."""
    diff_ids: list[Digest] = []
    parent = None
    for data in layers:
        diff_ids.append(Digest.of(data))
        current = chain_id(diff_ids)
        info = snapshotter.unpack(current, parent, io.BytesIO(gzip.compress(data)))
        assert info.diff_id == diff_ids[-1]
        parent = current
    return parent


BASE = build_tar(
    [
        {"name": "etc/", "type": DIR},
        {"name": "etc/passwd", "data": b"root"},
        {"name": "var/", "type": DIR},
        {"name": "var/a", "data": b"a"},
        {"name": "bin/", "type": DIR},
        {"name": "bin/sh", "data": b"sh"},
    ]
)
TOP = build_tar(
    [
        {"name": "etc/.wh.passwd"},
        {"name": "var/", "type": DIR},
        {"name": "var/.wh..wh..opq"},
        {"name": "var/b", "data": b"b"},
    ]
)


def test_unpack_records_the_layer(snapshotter: OverlaySnapshotter, root: DataRoot) -> None:
    top = _stack(snapshotter, [BASE, TOP])
    info = snapshotter.layer(top)
    assert info.diff_id == Digest.of(TOP) and info.parent == chain_id([Digest.of(BASE)])
    assert info.size == 1
    assert (root.layers / top.hex / "diff" / "var" / "b").read_bytes() == b"b"
    assert os.readlink(root.layers / "l" / short_name(top)) == f"../{top.hex}/diff"
    assert snapshotter.list_layers() == [top, info.parent]  # children first
    assert list(root.tmp.iterdir()) == []


@pytest.mark.parametrize("damage", ["truncated", "hostile", "bad checksum"])
def test_bad_layer_leaves_nothing(snapshotter: OverlaySnapshotter, root: DataRoot, damage: str) -> None:
    data = bytearray(BASE)
    if damage == "truncated":
        data = data[:700]
    elif damage == "hostile":
        data = bytearray(build_tar([{"name": "ok", "data": b"1"}, {"name": "../x", "data": b"2"}]))
    else:
        data[512 + 5] ^= 1  # the second header's name
    chain = Digest.of(b"layer")
    with pytest.raises(InvalidArgument):
        snapshotter.unpack(chain, None, io.BytesIO(bytes(data)))
    assert not snapshotter.has_layer(chain)
    assert sorted(p.name for p in root.layers.iterdir()) == ["l"]
    assert list((root.layers / "l").iterdir()) == []
    assert list(root.tmp.iterdir()) == []


def test_a_layer_is_published_only_once_its_diff_id_checks(snapshotter: OverlaySnapshotter, root: DataRoot) -> None:
    chain = chain_id([Digest.of(BASE)])
    with pytest.raises(DiffIdMismatch) as caught:
        snapshotter.unpack(chain, None, io.BytesIO(gzip.compress(TOP)), Digest.of(BASE))
    assert caught.value.actual == Digest.of(TOP) and caught.value.expected == Digest.of(BASE)
    assert not snapshotter.has_layer(chain)
    assert sorted(p.name for p in root.layers.iterdir()) == ["l"]
    assert list((root.layers / "l").iterdir()) == [] and list(root.tmp.iterdir()) == []
    info = snapshotter.unpack(chain, None, io.BytesIO(gzip.compress(BASE)), Digest.of(BASE))
    assert info.diff_id == Digest.of(BASE) and snapshotter.has_layer(chain)


def test_unpack_needs_its_parent(snapshotter: OverlaySnapshotter) -> None:
    with pytest.raises(NotFound, match="layer does not exist"):
        snapshotter.unpack(Digest.of(b"c"), Digest.of(b"p"), io.BytesIO(BASE))


def test_container_lifecycle(snapshotter: OverlaySnapshotter, root: DataRoot) -> None:
    top = _stack(snapshotter, [BASE, TOP])
    (mount,) = snapshotter.prepare("c1", top)
    assert mount.type == "overlay" and any(o.startswith("lowerdir=") for o in mount.options)
    with pytest.raises(Conflict):
        snapshotter.prepare("c1", top)
    rootfs = snapshotter.mount("c1")
    assert snapshotter.mount("c1") == rootfs and is_mounted(rootfs)
    assert sorted(os.listdir(rootfs)) == [".dockerenv", "bin", "etc", "var"]  # the init layer's
    assert sorted(os.listdir(rootfs / "etc")) == ["hostname", "hosts", "resolv.conf"]
    assert os.listdir(rootfs / "var") == ["b"]
    (rootfs / "bin" / "sh").unlink()
    (rootfs / "new").write_text("n")
    out = io.BytesIO()
    snapshotter.diff("c1", out)
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tar:
        assert tar.getnames() == ["bin", "bin/.wh.sh", "new"]
    exported = io.BytesIO()
    snapshotter.export("c1", exported)
    with tarfile.open(fileobj=io.BytesIO(exported.getvalue())) as tar:
        assert sorted(tar.getnames()) == [
            ".dockerenv",
            "bin",
            "etc",
            "etc/hostname",
            "etc/hosts",
            "etc/resolv.conf",
            "new",
            "var",
            "var/b",
        ]
    with pytest.raises(Conflict):
        snapshotter.remove_layer(top)
    snapshotter.remove("c1")
    snapshotter.remove("c1")
    assert not is_mounted(rootfs) and not root.container("c1").exists()


def test_paths_name_the_snapshot_without_mounting(snapshotter: OverlaySnapshotter, root: DataRoot) -> None:
    base = _stack(snapshotter, [BASE])
    top = _stack(snapshotter, [BASE, TOP])
    snapshotter.prepare("c3", top)
    paths = snapshotter.paths("c3")
    assert not is_mounted(paths.rootfs)
    assert paths.lowers == (root.layers / top.hex / "diff", root.layers / base.hex / "diff")  # topmost first
    rootfs = snapshotter.mount("c3")
    assert rootfs == paths.rootfs
    (rootfs / "new").write_text("n")
    assert (paths.upper / "new").read_text() == "n" and paths.work.is_dir()
    assert snapshotter.paths("c3") == paths
    snapshotter.prepare("c4", None)
    assert snapshotter.paths("c4").lowers == ()
    snapshotter.remove("c3")
    with pytest.raises(NotFound):
        snapshotter.paths("c3")


def test_export_mounts_only_for_the_while(snapshotter: OverlaySnapshotter, root: DataRoot) -> None:
    snapshotter.prepare("c2", _stack(snapshotter, [BASE]))
    out = io.BytesIO()
    snapshotter.export("c2", out)
    assert b"etc/passwd" in out.getvalue()
    assert not is_mounted(root.container("c2") / "rootfs")


def test_empty_parent_is_a_bind_of_upper(snapshotter: OverlaySnapshotter) -> None:
    (mount,) = snapshotter.prepare("scratch", None)
    assert mount.type == "bind"
    rootfs = snapshotter.mount("scratch")
    assert os.listdir(rootfs) == []
    (rootfs / "f").write_text("x")
    out = io.BytesIO()
    snapshotter.diff("scratch", out)
    assert tarfile.open(fileobj=io.BytesIO(out.getvalue())).getnames() == ["f"]


def test_a_hundred_layers_mount_within_a_page(snapshotter: OverlaySnapshotter) -> None:
    layers = [
        build_tar([{"name": f"f{i:03}", "data": str(i).encode()}, {"name": "top", "data": str(i).encode()}])
        for i in range(100)
    ]
    top = _stack(snapshotter, layers)
    snapshotter.prepare("tall", top)
    rootfs = snapshotter.mount("tall")
    assert len(os.listdir(rootfs)) == 103  # and the init layer's /.dockerenv and /etc
    assert (rootfs / "top").read_text() == "99" and (rootfs / "f000").read_text() == "0"


def test_busy_mount_is_removed_lazily(snapshotter: OverlaySnapshotter, root: DataRoot) -> None:
    snapshotter.prepare("busy", _stack(snapshotter, [BASE]))
    rootfs = snapshotter.mount("busy")
    holder = subprocess.Popen(["sleep", "30"], cwd=rootfs / "etc")
    try:
        snapshotter.remove("busy")
        assert not is_mounted(rootfs) and not root.container("busy").exists()
    finally:
        holder.kill()
        holder.wait()


def test_removing_in_list_order_never_conflicts(snapshotter: OverlaySnapshotter) -> None:
    _stack(snapshotter, [BASE, TOP, BASE])
    _stack(snapshotter, [TOP])
    for layer in snapshotter.list_layers():
        snapshotter.remove_layer(layer)
    assert snapshotter.list_layers() == []


def test_remove_layer(snapshotter: OverlaySnapshotter, root: DataRoot) -> None:
    base = _stack(snapshotter, [BASE])
    top = _stack(snapshotter, [BASE, TOP])
    with pytest.raises(Conflict):
        snapshotter.remove_layer(base)
    snapshotter.remove_layer(top)
    snapshotter.remove_layer(top)
    snapshotter.remove_layer(base)
    assert snapshotter.list_layers() == [] and list((root.layers / "l").iterdir()) == []
    with pytest.raises(NotFound):
        snapshotter.layer(base)


@pytest.mark.parametrize("key", ["", "..", "a/b", "."])
def test_bad_keys_are_refused(snapshotter: OverlaySnapshotter, key: str) -> None:
    with pytest.raises(InvalidArgument):
        snapshotter.prepare(key, None)


def test_stale_scratch_is_cleaned_at_start(root: DataRoot) -> None:
    (root.tmp / "layer-crashed" / "diff").mkdir(parents=True)
    OverlaySnapshotter(root)
    assert not (root.tmp / "layer-crashed").exists()


def test_mountinfo_lists_mount_points_as_the_kernel_escapes_them() -> None:
    text = (
        "36 35 98:0 / /mnt/with\\040space rw - ext4 /dev/x rw\n"
        "37 35 98:0 /mnt/bound /elsewhere rw - ext4 /dev/x rw\n"
        "38 35 0:50 / /mnt/last rw - overlay overlay rw"
    )
    assert lists_mount_point(text, "/mnt/with space")
    assert lists_mount_point(text, "/mnt/last")  # the last line, without a newline
    assert not lists_mount_point(text, "/mnt/bound")  # a bind's root field is not a mount point
    assert not lists_mount_point(text, "/mnt/with")
    assert not lists_mount_point(text, "/elsewhere/x")


@pytest.mark.parametrize("statx", [True, False], ids=["statx", "mountinfo"])
def test_is_mounted_sees_a_bind_mount_on_the_same_filesystem(tmp_path: Path, monkeypatch, statx: bool) -> None:
    if not statx:  # a kernel or C library without STATX_ATTR_MOUNT_ROOT: the table decides
        monkeypatch.setattr(mountinfo, "_mount_root", lambda path: None)
    source, target = tmp_path / "source", tmp_path / "target with space"
    source.mkdir()
    target.mkdir()
    (tmp_path / "link").symlink_to(target)
    assert not is_mounted(target) and not is_mounted(tmp_path / "missing" / "x")
    subprocess.run(["mount", "--bind", str(source), str(target)], check=True)
    try:
        assert os.stat(target).st_dev == os.stat(tmp_path).st_dev  # st_dev could not tell
        assert mountinfo._mount_root(target) is (True if statx else None)  # statx answered itself
        assert is_mounted(target) and is_mounted(tmp_path / "link") and not is_mounted(source)
    finally:
        subprocess.run(["umount", str(target)], check=True)
    assert not is_mounted(target)


def test_whiteout_layer_on_disk_is_overlay_form(snapshotter: OverlaySnapshotter, root: DataRoot) -> None:
    top = _stack(snapshotter, [BASE, TOP])
    diff = root.layers / top.hex / "diff"
    assert stat.S_ISCHR((diff / "etc" / "passwd").lstat().st_mode)
    assert os.getxattr(diff / "var", "trusted.overlay.opaque") == b"y"


def _damage(parent: Path, how: str) -> None:
    """What a power loss can leave of a parent file written without fsync."""
    if how == "missing":
        parent.unlink()
    elif how == "empty":
        parent.write_text("")
    else:
        parent.write_text(parent.read_text()[:20])  # cut short


@pytest.mark.parametrize("how", ["missing", "empty", "cut short"])
def test_repair_rewrites_a_parent_a_power_loss_damaged(
    snapshotter: OverlaySnapshotter, root: DataRoot, how: str
) -> None:
    top = _stack(snapshotter, [BASE, TOP])
    snapshotter.prepare("c1", top, durable=False)
    rootfs = snapshotter.mount("c1")
    (rootfs / "kept").write_text("the container's own change")
    snapshotter.unmount("c1")
    _damage(root.container("c1") / "parent", how)
    assert snapshotter.repair("c1", top)
    assert (root.container("c1") / "parent").read_text() == top
    rootfs = snapshotter.mount("c1")
    assert sorted(os.listdir(rootfs)) == [".dockerenv", "bin", "etc", "kept", "var"]  # the image's files are back
    assert (rootfs / "var" / "b").read_text() == "b" and (rootfs / "kept").read_text() == "the container's own change"
    assert not snapshotter.repair("c1", top)  # nothing left to repair


def test_an_empty_parent_file_is_repaired_only_when_the_record_names_a_parent(
    snapshotter: OverlaySnapshotter, root: DataRoot
) -> None:
    """An empty file is both a snapshot with no parent and what a power loss leaves: the
    caller's record decides."""
    top = _stack(snapshotter, [BASE])
    snapshotter.prepare("scratch", None, durable=False)
    snapshotter.prepare("over", top, durable=False)
    (root.container("over") / "parent").write_text("")
    assert not snapshotter.repair("scratch", None)
    assert snapshotter.repair("over", top) and snapshotter.paths("over").lowers
    (root.container("scratch") / "parent").unlink()
    assert snapshotter.repair("scratch", None)
    assert (root.container("scratch") / "parent").read_text() == "" and snapshotter.mount("scratch")


def test_repair_remakes_what_a_power_loss_took_of_the_snapshot_dir(
    snapshotter: OverlaySnapshotter, root: DataRoot
) -> None:
    top = _stack(snapshotter, [BASE])
    snapshotter.prepare("c1", top, durable=False)
    shutil.rmtree(root.container("c1"))
    assert snapshotter.repair("c1", top)
    assert stat.S_IMODE(root.container("c1").stat().st_mode) == 0o700  # private, as the engine makes it
    assert sorted(os.listdir(snapshotter.mount("c1"))) == [".dockerenv", "bin", "etc", "var"]
    with pytest.raises(NotFound, match="layer does not exist"):
        snapshotter.repair("c1", Digest.of(b"ghost"))


def test_every_container_shows_the_one_init_layer_which_a_restart_leaves_as_it_was(
    snapshotter: OverlaySnapshotter, root: DataRoot
) -> None:
    top = _stack(snapshotter, [BASE])
    (first,) = snapshotter.prepare("c1", top)
    (second,) = snapshotter.prepare("c2", top)
    lowers = [
        next(o for o in m.options if o.startswith("lowerdir=")).split("=", 1)[1].split(":") for m in (first, second)
    ]
    assert lowers[0][0] == lowers[1][0] == str(root.init_layer)
    assert not (root.container("c1") / "init").exists()  # nothing per container
    hosts = root.init_layer / "etc" / "hosts"
    os.utime(hosts, (1, 1))
    (root.init_layer / ".dockerenv").unlink()  # what a power loss could take
    OverlaySnapshotter(root)  # the next daemon's
    assert hosts.stat().st_mtime == 1  # a lowerdir of running containers: left alone
    assert (root.init_layer / ".dockerenv").is_file()

"""The Snapshotter contract (dockyard.snapshots.snapshotter), run against FakeSnapshotter and
OverlaySnapshotter: layers (unpack, stage, publish, discard, has_layer, layer, list_layers,
remove_layer) and snapshots (prepare, repair, paths, mount, unmount, remove, diff, export)."""

from __future__ import annotations

import gzip
import io
import tarfile

import pytest

from dockyard.errors import Conflict, InvalidArgument, NotFound
from dockyard.oci.digest import Digest, chain_id
from dockyard.snapshots.snapshotter import DiffIdMismatch
from tests.archive.archive_support import build_tar

DIR = tarfile.DIRTYPE
BASE = build_tar(
    [
        {"name": "etc/", "type": DIR, "mode": 0o755},
        {"name": "etc/passwd", "data": b"root", "mode": 0o644},
        {"name": "var/", "type": DIR, "mode": 0o755},
        {"name": "var/a", "data": b"a", "mode": 0o644},
        {"name": "bin/", "type": DIR, "mode": 0o755},
        {"name": "bin/sh", "data": b"sh", "mode": 0o755},
        {"name": "bin/link", "type": tarfile.SYMTYPE, "linkname": "sh"},
    ]
)
TOP = build_tar(
    [
        {"name": "etc/.wh.passwd"},
        {"name": "var/", "type": DIR, "mode": 0o755},
        {"name": "var/.wh..wh..opq"},
        {"name": "var/b", "data": b"bb", "mode": 0o644},
    ]
)


def stack(snapshotter, layers: list[bytes]) -> Digest:
    """Unpack layers bottom first (gzipped, as pulled); return the top chain ID."""
    diff_ids: list[Digest] = []
    parent = None
    for data in layers:
        diff_ids.append(Digest.of(data))
        current = chain_id(diff_ids)
        info = snapshotter.unpack(current, parent, io.BytesIO(gzip.compress(data)))
        assert (info.chain_id, info.parent, info.diff_id) == (current, parent, diff_ids[-1])
        parent = current
    return parent


def names(data: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return [name.rstrip("/") for name in tar.getnames()]


def contents(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def test_unpack_records_layers_and_lists_children_first(snapshotter):
    base = stack(snapshotter, [BASE])
    top = stack(snapshotter, [BASE, TOP])
    assert snapshotter.has_layer(base) and snapshotter.has_layer(top)
    info = snapshotter.layer(top)
    assert (info.parent, info.diff_id, info.size) == (base, Digest.of(TOP), 2)
    assert snapshotter.list_layers() == [top, base]
    again = snapshotter.unpack(top, base, io.BytesIO(TOP))
    assert again == info  # unpacking a present layer is a no-op


def test_unknown_layers_are_not_found(snapshotter):
    ghost = Digest.of(b"ghost")
    assert not snapshotter.has_layer(ghost)
    with pytest.raises(NotFound, match="layer does not exist"):
        snapshotter.layer(ghost)
    with pytest.raises(NotFound, match="layer does not exist"):
        snapshotter.unpack(Digest.of(b"child"), ghost, io.BytesIO(BASE))
    with pytest.raises(NotFound, match="layer does not exist"):
        snapshotter.prepare("c1", ghost)
    snapshotter.remove_layer(ghost)  # nothing to do


@pytest.mark.parametrize("damage", ["truncated", "hostile"])
def test_a_bad_tar_is_invalid_and_leaves_no_layer(snapshotter, damage):
    if damage == "truncated":
        data = BASE[:700]
    else:
        data = build_tar([{"name": "ok", "data": b"1"}, {"name": "../escape", "data": b"2"}])
    chain = Digest.of(data)
    with pytest.raises(InvalidArgument):
        snapshotter.unpack(chain, None, io.BytesIO(data))
    assert not snapshotter.has_layer(chain) and snapshotter.list_layers() == []


def test_layers_staged_in_any_order_are_published_bottom_first(snapshotter):
    base, top = Digest.of(BASE), Digest.of(TOP)
    base_chain, top_chain = chain_id([base]), chain_id([base, top])
    staged_top = snapshotter.stage(io.BytesIO(gzip.compress(TOP)), top)  # before its parent exists
    assert staged_top.diff_id == top and not snapshotter.has_layer(top_chain)
    with pytest.raises(NotFound, match="layer does not exist"):
        snapshotter.publish(staged_top, top_chain, base_chain)
    staged_base = snapshotter.stage(io.BytesIO(BASE), base)
    assert snapshotter.list_layers() == []  # nothing staged is visible
    assert snapshotter.publish(staged_base, base_chain, None).diff_id == base
    info = snapshotter.publish(staged_top, top_chain, base_chain)  # kept by the refused publish
    assert (info.chain_id, info.parent, info.diff_id, info.size) == (top_chain, base_chain, top, 2)
    assert snapshotter.list_layers() == [top_chain, base_chain]
    snapshotter.prepare("c1", top_chain)
    assert sorted(p.name for p in (snapshotter.mount("c1") / "var").iterdir()) == ["b"]


def test_a_discarded_or_mismatched_staged_layer_leaves_nothing(snapshotter, tmp_path):
    scratch = tmp_path / "data" / "tmp"
    before = sorted(scratch.iterdir()) if scratch.exists() else []
    snapshotter.discard(snapshotter.stage(io.BytesIO(BASE)))
    with pytest.raises(DiffIdMismatch):
        snapshotter.stage(io.BytesIO(BASE), Digest.of(TOP))
    with pytest.raises(InvalidArgument):
        snapshotter.stage(io.BytesIO(BASE[:700]))
    assert snapshotter.list_layers() == []
    assert (sorted(scratch.iterdir()) if scratch.exists() else []) == before


def test_remove_layer_refuses_while_a_layer_or_snapshot_is_on_it(snapshotter):
    base = stack(snapshotter, [BASE])
    top = stack(snapshotter, [BASE, TOP])
    with pytest.raises(Conflict, match="in use by layer"):
        snapshotter.remove_layer(base)
    snapshotter.prepare("c1", top)
    with pytest.raises(Conflict, match="in use by container c1"):
        snapshotter.remove_layer(top)
    snapshotter.remove("c1")
    snapshotter.remove_layer(top)
    snapshotter.remove_layer(base)
    assert snapshotter.list_layers() == [] and not snapshotter.has_layer(base)


def test_prepare_mount_unmount_remove_are_idempotent_where_the_contract_says(snapshotter):
    top = stack(snapshotter, [BASE, TOP])
    assert len(snapshotter.prepare("c1", top)) == 1
    with pytest.raises(Conflict, match="already exists"):
        snapshotter.prepare("c1", top)
    rootfs = snapshotter.mount("c1")
    assert snapshotter.mount("c1") == rootfs == snapshotter.paths("c1").rootfs
    assert sorted(p.name for p in rootfs.iterdir()) == [".dockerenv", "bin", "etc", "var"]
    assert [p.name for p in (rootfs / "var").iterdir()] == ["b"]
    assert sorted(p.name for p in (rootfs / "etc").iterdir()) == ["hostname", "hosts", "resolv.conf"]  # init layer
    (rootfs / "kept").write_bytes(b"across mounts")
    snapshotter.unmount("c1")
    snapshotter.unmount("c1")
    assert (snapshotter.mount("c1") / "kept").read_bytes() == b"across mounts"
    snapshotter.remove("c1")
    snapshotter.remove("c1")
    with pytest.raises(NotFound):
        snapshotter.paths("c1")
    snapshotter.prepare("c1", top)  # the key is free again
    assert not (snapshotter.mount("c1") / "kept").exists()


def test_an_unsynced_snapshot_is_the_same_and_repair_keeps_a_sound_one(snapshotter):
    top = stack(snapshotter, [BASE, TOP])
    snapshotter.prepare("c1", top, durable=False)
    snapshotter.prepare("scratch", None, durable=False)
    (snapshotter.mount("c1") / "kept").write_bytes(b"changed")
    assert not snapshotter.repair("c1", top) and not snapshotter.repair("scratch", None)
    rootfs = snapshotter.mount("c1")
    assert [p.name for p in (rootfs / "var").iterdir()] == ["b"] and (rootfs / "kept").read_bytes() == b"changed"
    assert list(snapshotter.mount("scratch").iterdir()) == []
    with pytest.raises(NotFound, match="layer does not exist"):
        snapshotter.repair("c1", Digest.of(b"ghost"))


def test_a_snapshot_without_parent_is_empty(snapshotter):
    snapshotter.prepare("scratch", None)
    rootfs = snapshotter.mount("scratch")
    assert list(rootfs.iterdir()) == [] and snapshotter.paths("scratch").lowers == ()


def test_bad_keys_are_invalid(snapshotter):
    for key in ("", "a/b", ".."):
        with pytest.raises(InvalidArgument):
            snapshotter.prepare(key, None)


def test_paths_name_the_layers_topmost_first(snapshotter):
    base = stack(snapshotter, [BASE])
    top = stack(snapshotter, [BASE, TOP])
    snapshotter.prepare("c1", top)
    lowers = snapshotter.paths("c1").lowers
    assert len(lowers) == 2 and top.hex in str(lowers[0]) and base.hex in str(lowers[1])
    assert (lowers[1] / "bin" / "sh").read_bytes() == b"sh"


def test_diff_carries_additions_changes_and_whiteouts(snapshotter):
    top = stack(snapshotter, [BASE, TOP])
    snapshotter.prepare("c1", top)
    rootfs = snapshotter.mount("c1")
    (rootfs / "bin" / "sh").unlink()
    (rootfs / "var" / "b").write_bytes(b"changed")
    (rootfs / "new").write_bytes(b"n")
    out = io.BytesIO()
    snapshotter.diff("c1", out)
    assert names(out.getvalue()) == ["bin", "bin/.wh.sh", "new", "var", "var/b"]
    assert contents(out.getvalue()) == {"bin/.wh.sh": b"", "new": b"n", "var/b": b"changed"}
    with pytest.raises(NotFound):
        snapshotter.diff("ghost", io.BytesIO())


def test_an_untouched_snapshot_has_an_empty_diff(snapshotter):
    top = stack(snapshotter, [BASE, TOP])
    snapshotter.prepare("c1", top)
    snapshotter.mount("c1")
    out = io.BytesIO()
    snapshotter.diff("c1", out)
    assert names(out.getvalue()) == []


@pytest.mark.parametrize("mounted", [True, False])
def test_export_is_the_merged_filesystem(snapshotter, mounted):
    top = stack(snapshotter, [BASE, TOP])
    snapshotter.prepare("c1", top)
    (snapshotter.mount("c1") / "new").write_bytes(b"n")
    if not mounted:
        snapshotter.unmount("c1")
    out = io.BytesIO()
    snapshotter.export("c1", out)
    init = [".dockerenv", "etc/hostname", "etc/hosts", "etc/resolv.conf"]  # as docker export shows them
    assert sorted(names(out.getvalue())) == sorted(["bin", "bin/link", "bin/sh", "etc", "new", "var", "var/b", *init])
    assert contents(out.getvalue()) == {"bin/sh": b"sh", "new": b"n", "var/b": b"bb"} | dict.fromkeys(init, b"")

"""sync_tree: which entries it fsyncs, in which order; it runs on every kind of entry a layer holds."""

from __future__ import annotations

import os

from dockyard.snapshots import durable
from dockyard.snapshots.durable import sync_directories, sync_tree, tree_entries


def make_tree(root):
    (root / "a" / "b").mkdir(parents=True)
    (root / "top").write_bytes(b"x")
    (root / "a" / "b" / "deep").write_bytes(b"y" * 10000)
    os.symlink("a/b", root / "dirlink")
    os.symlink("missing", root / "dangling")
    os.mkfifo(root / "a" / "fifo")


def test_tree_entries_lists_regular_files_and_directories_deepest_first(tmp_path):
    make_tree(tmp_path)
    files, directories = tree_entries(tmp_path)
    assert sorted(files) == sorted([str(tmp_path / "top"), str(tmp_path / "a" / "b" / "deep")])
    assert directories == [str(tmp_path / "a" / "b"), str(tmp_path / "a"), str(tmp_path)]


def test_sync_tree_runs_over_links_fifos_and_empty_trees(tmp_path):
    make_tree(tmp_path / "layer")
    sync_tree(tmp_path / "layer")  # a fifo or a symlink would block or fail if it were opened
    (tmp_path / "empty").mkdir()
    sync_tree(tmp_path / "empty")
    sync_directories(tmp_path, tmp_path / "layer")


def test_make_durable_takes_one_syncfs_when_what_is_dirty_is_mostly_the_trees_own(tmp_path, monkeypatch):
    make_tree(tmp_path / "layer")
    calls = []
    monkeypatch.setattr(durable, "sync_tree", lambda root: calls.append(("tree", root)))
    real_syncfs = durable.LIBC.syncfs

    class Libc:
        def syncfs(self, fd):
            calls.append(("syncfs", os.readlink(f"/proc/self/fd/{fd}")))
            return real_syncfs(fd)

    monkeypatch.setattr(durable, "LIBC", Libc())
    mine = 500 * 1024 * 1024
    durable.make_durable(tmp_path / "layer", mine, dirty=lambda: mine + durable.FOREIGN_DIRTY)
    durable.make_durable(tmp_path / "layer", mine, dirty=lambda: mine + durable.FOREIGN_DIRTY + 1)
    durable.make_durable(tmp_path / "layer", 0, dirty=lambda: 0)
    assert calls == [
        ("syncfs", str(tmp_path / "layer")),
        ("tree", tmp_path / "layer"),
        ("syncfs", str(tmp_path / "layer")),
    ]


def test_make_durable_runs_both_ways_on_a_real_tree(tmp_path):
    make_tree(tmp_path / "layer")
    durable.make_durable(tmp_path / "layer", 10001, dirty=lambda: 0)  # syncfs
    durable.make_durable(tmp_path / "layer", 0, dirty=lambda: 1 << 40)  # sync_tree
    assert durable.dirty_bytes() >= 0

"""sync_tree: which entries it fsyncs, in which order; it runs on every kind of entry a layer holds."""

from __future__ import annotations

import os

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

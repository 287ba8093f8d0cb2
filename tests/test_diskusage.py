"""du against coreutils' `du -sb` on one tree with files, hardlinks, symlinks and subdirs."""

from __future__ import annotations

import os
import subprocess

from dockyard.diskusage import du


def _tree(root):
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "f").write_bytes(b"x" * 5000)
    (root / "a" / "b" / "g").write_bytes(b"y" * 123)
    os.link(root / "a" / "f", root / "hard")
    (root / "up").symlink_to("/usr")  # its own few bytes, never what it points at
    (root / "empty").mkdir()


def test_du_agrees_with_coreutils(tmp_path):
    _tree(tmp_path / "t")
    expected = int(subprocess.run(["du", "-sb", str(tmp_path / "t")], capture_output=True, text=True).stdout.split()[0])
    assert du(tmp_path / "t") == expected


def test_du_without_directories_counts_files_and_links(tmp_path):
    _tree(tmp_path / "t")
    assert du(tmp_path / "t", directories=False) == 5000 + 123 + len("/usr")


def test_du_of_nothing_is_zero(tmp_path):
    assert du(tmp_path / "missing") == 0
    (tmp_path / "link").symlink_to(tmp_path)
    assert du(tmp_path / "link") == 0

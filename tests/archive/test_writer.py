"""write_tar and write_diff on real trees: order, hardlinks, whiteouts back to OCI form."""

from __future__ import annotations

import io
import os
import socket
import tarfile
from pathlib import Path

import pytest

from dockyard.archive import write_diff, write_tar

pytestmark = pytest.mark.root


def _entries(data: bytes) -> list[tuple[str, bytes, int, str]]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return [(m.name, m.type, m.mode, m.linkname) for m in tar]


@pytest.fixture
def upper(tmp_path: Path) -> Path:
    """An overlay upper dir as the kernel leaves it after rm, rm -r + mkdir, and edits."""
    root = tmp_path / "upper"
    (root / "etc").mkdir(parents=True)
    os.mknod(root / "etc" / "passwd", 0o020000, 0)  # whiteout
    (root / "var").mkdir()
    os.setxattr(root / "var", "trusted.overlay.opaque", b"y")
    os.setxattr(root / "var", "trusted.overlay.origin", b"\x00")
    (root / "var" / "new").write_text("n")
    os.setxattr(root / "var" / "new", "user.keep", b"1")
    (root / "b").write_text("hard")
    os.link(root / "b", root / "a")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(root / "sock"))
    return root


def test_write_diff_turns_overlay_whiteouts_into_oci_ones(upper: Path) -> None:
    out = io.BytesIO()
    write_diff(upper, out)
    assert _entries(out.getvalue()) == [
        ("a", tarfile.REGTYPE, 0o644, ""),
        ("b", tarfile.LNKTYPE, 0o644, "a"),
        ("etc", tarfile.DIRTYPE, 0o755, ""),
        ("etc/.wh.passwd", tarfile.REGTYPE, 0o600, ""),
        ("var", tarfile.DIRTYPE, 0o755, ""),
        ("var/.wh..wh..opq", tarfile.REGTYPE, 0o755, ""),
        ("var/new", tarfile.REGTYPE, 0o644, ""),
    ]
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tar:
        assert tar.getmember("var").pax_headers == {}
        assert tar.getmember("var/new").pax_headers == {"SCHILY.xattr.user.keep": "1"}


def test_write_tar_keeps_devices_and_is_deterministic(upper: Path) -> None:
    first, second = io.BytesIO(), io.BytesIO()
    os.utime(upper / "var", ns=(1000 * 10**9, 1000 * 10**9))
    write_tar(upper, first)
    os.utime(upper / "var", ns=(1000 * 10**9, 1000 * 10**9 + 999))  # sub-second: not recorded
    write_tar(upper, second)
    names = [name for name, *_ in _entries(first.getvalue())]
    assert names == ["a", "b", "etc", "etc/passwd", "var", "var/new"]
    with tarfile.open(fileobj=io.BytesIO(first.getvalue())) as tar:
        assert tar.getmember("etc/passwd").ischr()
    assert len(first.getvalue()) % 512 == 0
    assert first.getvalue() == second.getvalue()


def test_equal_trees_give_equal_bytes(tmp_path: Path) -> None:
    outputs = []
    for name in ("one", "two"):
        root = tmp_path / name
        (root / "d").mkdir(parents=True)
        for child in ("z", "a", "m"):
            (root / "d" / child).write_text(child)
            os.utime(root / "d" / child, (100, 100))
        os.utime(root / "d", (100, 100))
        out = io.BytesIO()
        write_tar(root, out)
        outputs.append(out.getvalue())
    assert outputs[0] == outputs[1]


def test_a_link_swapped_for_a_directory_between_its_lstat_and_readlink_is_skipped(tmp_path: Path, monkeypatch) -> None:
    """A container that swaps a directory and a symlink in a loop while export walks it (the
    race tests/e2e/test_export_commit.py runs): the entry that is neither by the time it is
    read is left out, as anything removed meanwhile, and the walk goes on."""
    root = tmp_path / "root"
    root.mkdir()
    (root / "swapped").symlink_to("/")
    (root / "z-after").write_text("kept")
    readlink = os.readlink

    def swap_then_readlink(path, *, dir_fd=None):
        if path == "swapped":
            os.unlink("swapped", dir_fd=dir_fd)
            os.mkdir("swapped", dir_fd=dir_fd)
        return readlink(path, dir_fd=dir_fd)

    monkeypatch.setattr(os, "readlink", swap_then_readlink)
    out = io.BytesIO()
    write_tar(root, out)
    assert [name for name, *_ in _entries(out.getvalue())] == ["z-after"]

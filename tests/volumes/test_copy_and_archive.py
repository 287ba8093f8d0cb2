"""Copy-up, the tar writer and the cp extraction over real directories (no root needed for most)."""

import io
import os
import stat
import tarfile

import pytest

from dockyard.archive.extract import extract_at
from dockyard.archive.writer import TreeWriter, end_tar
from dockyard.cli.commands.cp import renamer
from dockyard.engine.containers.archive import entry_name, go_file_mode
from dockyard.engine.containers.mounting import open_in_root
from dockyard.errors import InvalidArgument
from dockyard.volumes.copyup import copy_up


def _fd(path):
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY)


def test_copy_up_keeps_modes_links_and_the_directory_mode(tmp_path):
    source, volume = tmp_path / "image", tmp_path / "volume"
    (source / "sub").mkdir(parents=True)
    (source / "sub" / "f").write_text("data")
    os.chmod(source / "sub" / "f", 0o4750)
    os.chmod(source, 0o1777)
    os.symlink("/etc/passwd", source / "link")
    os.link(source / "sub" / "f", source / "hard")
    volume.mkdir()
    s, v = _fd(source), _fd(volume)
    try:
        copy_up(s, v)
    finally:
        os.close(s)
        os.close(v)
    assert (volume / "sub" / "f").read_text() == "data"
    assert stat.S_IMODE(os.stat(volume / "sub" / "f").st_mode) == 0o4750
    assert stat.S_IMODE(os.stat(volume).st_mode) == 0o1777
    assert os.readlink(volume / "link") == "/etc/passwd"
    assert os.stat(volume / "hard").st_ino == os.stat(volume / "sub" / "f").st_ino


def _tar(tmp_path, entries):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, kind, extra in entries:
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind == tarfile.SYMTYPE:
                info.linkname = extra
                tar.addfile(info)
            else:
                info.size = len(extra)
                tar.addfile(info, io.BytesIO(extra))
    buffer.seek(0)
    return buffer


def test_extract_never_follows_a_link_from_the_same_tar(tmp_path):
    outside, dest = tmp_path / "outside", tmp_path / "dest"
    outside.mkdir()
    dest.mkdir()
    body = _tar(tmp_path, [("conf/x", tarfile.SYMTYPE, str(outside)), ("conf/x/pwned", tarfile.REGTYPE, b"!")])
    fd = _fd(dest)
    try:
        with pytest.raises(InvalidArgument):
            extract_at(body, fd)
    finally:
        os.close(fd)
    assert not (outside / "pwned").exists()


def test_extract_refuses_to_swap_a_directory_for_a_file_when_asked(tmp_path):
    (tmp_path / "d").mkdir()
    fd = _fd(tmp_path)
    try:
        with pytest.raises(InvalidArgument, match="cannot overwrite directory"):
            extract_at(_tar(tmp_path, [("d", tarfile.REGTYPE, b"x")]), fd, no_overwrite_dir_non_dir=True)
        with pytest.raises(InvalidArgument):
            extract_at(io.BytesIO(b"not a tar" * 100), fd)
        extract_at(_tar(tmp_path, [(".wh.x", tarfile.REGTYPE, b"plain")]), fd)
    finally:
        os.close(fd)
    assert (tmp_path / "d").is_dir()
    assert (tmp_path / ".wh.x").read_text() == "plain"  # cp is no layer: no whiteouts


def test_writer_writes_a_symlink_as_a_link_and_never_reads_through_it(tmp_path):
    (tmp_path / "d").mkdir()
    os.symlink("/etc", tmp_path / "d" / "etc")
    out = io.BytesIO()
    fd = _fd(tmp_path)
    try:
        TreeWriter(out).entry(fd, "d", "d")
        end_tar(out)
    finally:
        os.close(fd)
    out.seek(0)
    with tarfile.open(fileobj=out) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert set(members) == {"d", "d/etc"}
    assert members["d/etc"].issym() and members["d/etc"].linkname == "/etc"


def test_resolution_in_root_never_leaves_it(tmp_path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "marker").write_text("inside")
    os.symlink("/", root / "up")
    os.symlink("../../../../etc", root / "rel")
    fd = _fd(root)
    try:
        for path in ("/up/etc/marker", "/rel/marker", "../../etc/marker"):
            opened = open_in_root(fd, path, os.O_RDONLY)
            with os.fdopen(opened) as f:
                assert f.read() == "inside"
    finally:
        os.close(fd)


def test_stat_helpers():
    assert go_file_mode(stat.S_IFDIR | 0o755) == (1 << 31) | 0o755
    assert go_file_mode(stat.S_IFLNK | 0o777) == 134218239
    assert go_file_mode(stat.S_IFREG | stat.S_ISUID | 0o755) == (1 << 23) | 0o755
    assert [entry_name(p) for p in ("/d", "/d/", "/d/.", "/", "f")] == ["d", "d", ".", ".", "f"]


def test_cli_checks_entries_after_renaming_them(tmp_path):
    outside, dest = tmp_path / "outside", tmp_path / "dest"
    outside.mkdir()
    dest.mkdir()
    body = _tar(tmp_path, [("src/x", tarfile.SYMTYPE, str(outside)), ("src/x/pwned", tarfile.REGTYPE, b"!")])
    with tarfile.open(fileobj=body) as tar, pytest.raises(tarfile.OutsideDestinationError):
        tar.extractall(dest, filter=renamer("src", "conf", None))
    assert not (outside / "pwned").exists()
    assert os.readlink(dest / "conf" / "x") == str(outside)  # the link itself is kept, as docker cp does

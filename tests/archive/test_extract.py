"""apply_layer on the real filesystem: hostile tars, every entry type, overlay semantics."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest
import zstandard

from dockyard.archive import apply_layer, write_tar
from dockyard.errors import InvalidArgument
from tests.archive.archive_support import build_tar

pytestmark = pytest.mark.root
SYM, LNK, DIR, CHR, BLK, FIFO = (
    tarfile.SYMTYPE,
    tarfile.LNKTYPE,
    tarfile.DIRTYPE,
    tarfile.CHRTYPE,
    tarfile.BLKTYPE,
    tarfile.FIFOTYPE,
)


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    """An empty destination with a sentinel directory beside it."""
    (tmp_path / "dest").mkdir()
    sentinel = tmp_path / "sentinel"
    sentinel.mkdir()
    (sentinel / "file").write_text("keep")
    (sentinel / "file").chmod(0o640)
    return tmp_path / "dest"


def _outside(dest: Path) -> dict[str, tuple]:
    """Everything beside dest: names, modes, owners, sizes, contents, xattrs."""
    seen = {}
    for path in sorted(dest.parent.rglob("*")):
        if path == dest or dest in path.parents:
            continue
        st = path.lstat()
        data = path.read_bytes() if stat.S_ISREG(st.st_mode) else b""
        seen[str(path)] = (st.st_mode, st.st_uid, st.st_gid, data, tuple(os.listxattr(path, follow_symlinks=False)))
    return seen


def _apply(data: bytes, dest: Path) -> tuple[str, int]:
    return apply_layer(io.BytesIO(data), dest)


HOSTILE = {
    "dotdot": [{"name": "../sentinel/file", "data": b"pwned"}],
    "inner dotdot": [{"name": "a/../../sentinel/file", "data": b"pwned"}],
    "symlink then through it": [
        {"name": "s", "type": SYM, "linkname": "/"},
        {"name": "s/" + str(Path(__file__).parent.relative_to("/")) + "/pwned", "data": b"x"},
    ],
    "relative symlink then through it": [
        {"name": "s", "type": SYM, "linkname": "../sentinel"},
        {"name": "s/file", "data": b"pwned"},
    ],
    "hardlink to host file": [{"name": "h", "type": LNK, "linkname": "/etc/passwd"}],
    "hardlink up": [{"name": "h", "type": LNK, "linkname": "../sentinel/file"}],
    "hardlink through symlink": [
        {"name": "s", "type": SYM, "linkname": "../sentinel"},
        {"name": "h", "type": LNK, "linkname": "s/file"},
    ],
    "pax path with dotdot": [{"name": "ok", "data": b"pwned", "pax_headers": {"path": "../sentinel/file"}}],
    "whiteout through symlink": [
        {"name": "s", "type": SYM, "linkname": "../sentinel"},
        {"name": "s/.wh.file"},
    ],
    "opaque through symlink": [
        {"name": "s", "type": SYM, "linkname": "../sentinel"},
        {"name": "s/.wh..wh..opq"},
    ],
    "whiteout of dotdot": [{"name": "a/.wh.."}],
    "directory through symlink": [
        {"name": "s", "type": SYM, "linkname": "../sentinel"},
        {"name": "s/sub/", "type": DIR, "mode": 0o777},
    ],
}


@pytest.mark.parametrize("entries", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_tar_is_refused_and_touches_nothing_outside(dest: Path, entries: list) -> None:
    before = _outside(dest)
    with pytest.raises(InvalidArgument):
        _apply(build_tar(entries), dest)
    assert _outside(dest) == before


def test_gnu_long_name_with_dotdot_is_refused(dest: Path) -> None:
    before = _outside(dest)
    data = build_tar([{"name": "../" * 40 + "sentinel/file", "data": b"pwned"}], fmt=tarfile.GNU_FORMAT)
    with pytest.raises(InvalidArgument):
        _apply(data, dest)
    assert _outside(dest) == before


REPLACED = {
    "file over symlink": {"name": "f", "data": b"new"},
    "device over symlink": {"name": "f", "type": CHR, "devmajor": 1, "devminor": 3},
    "fifo over symlink": {"name": "f", "type": FIFO},
    "directory over symlink": {"name": "f", "type": DIR, "mode": 0o777},
    "symlink over symlink": {"name": "f", "type": SYM, "linkname": "/etc"},
    "whiteout over symlink": {"name": ".wh.f"},
}


@pytest.mark.parametrize("entry", REPLACED.values(), ids=REPLACED.keys())
def test_entry_replaces_an_outward_symlink_instead_of_writing_through(dest: Path, entry) -> None:
    before = _outside(dest)
    _apply(build_tar([{"name": "f", "type": SYM, "linkname": "../sentinel/file"}, entry]), dest)
    assert _outside(dest) == before
    assert os.readlink(dest / "f") != "../sentinel/file" if (dest / "f").is_symlink() else True


def test_absolute_names_are_made_relative(dest: Path) -> None:
    name = f"/etc/dockyard-test-{uuid.uuid4().hex}"
    _apply(build_tar([{"name": name, "data": b"in"}]), dest)
    assert (dest / name.lstrip("/")).read_bytes() == b"in"
    assert not Path(name).exists()


def test_outward_symlink_is_created_but_never_followed(dest: Path) -> None:
    _apply(build_tar([{"name": "etc/mtab", "type": SYM, "linkname": "/proc/self/mounts"}]), dest)
    assert os.readlink(dest / "etc/mtab") == "/proc/self/mounts"


def test_every_entry_type_with_owners_modes_times_and_xattrs(dest: Path) -> None:
    entries = [
        {"name": "d/", "type": DIR, "mode": 0o1777, "uid": 5, "gid": 6, "mtime": 1000},
        {"name": "d/suid", "data": b"#!", "mode": 0o4755, "uid": 1000, "gid": 50, "mtime": 2000},
        {"name": "d/hard", "type": LNK, "linkname": "d/suid"},
        {"name": "d/sym", "type": SYM, "linkname": "suid", "uid": 7, "gid": 8, "mtime": 3000},
        {"name": "dev/sda", "type": BLK, "devmajor": 8, "devminor": 1, "mode": 0o660},
        {"name": "dev/null", "type": CHR, "devmajor": 1, "devminor": 3, "mode": 0o666},
        {"name": "run/fifo", "type": FIFO, "mode": 0o620},
        {
            "name": "x/" + "long" * 60,
            "data": b"L",
            "pax_headers": {
                "SCHILY.xattr.user.k": "v",
                "SCHILY.xattr.trusted.t": "w",
                "SCHILY.xattr.trusted.overlay.redirect": "/etc",
            },
        },
    ]
    data = build_tar(entries)
    diff_id, size = _apply(data, dest)
    assert diff_id == "sha256:" + hashlib.sha256(data).hexdigest() and size == 3
    d, suid, sym = (dest / "d").lstat(), (dest / "d/suid").lstat(), (dest / "d/sym").lstat()
    assert (stat.S_IMODE(d.st_mode), d.st_uid, d.st_gid, d.st_mtime) == (0o1777, 5, 6, 1000)
    assert (stat.S_IMODE(suid.st_mode), suid.st_uid, suid.st_gid) == (0o4755, 1000, 50)
    assert (suid.st_mtime, suid.st_nlink, (dest / "d/hard").stat().st_ino) == (2000, 2, suid.st_ino)
    assert (os.readlink(dest / "d/sym"), sym.st_uid, sym.st_gid, sym.st_mtime) == ("suid", 7, 8, 3000)
    sda, null = (dest / "dev/sda").lstat(), (dest / "dev/null").lstat()
    assert stat.S_ISBLK(sda.st_mode) and os.major(sda.st_rdev) == 8 and os.minor(sda.st_rdev) == 1
    assert stat.S_ISCHR(null.st_mode) and stat.S_IMODE(null.st_mode) == 0o666
    assert stat.S_ISFIFO((dest / "run/fifo").lstat().st_mode)
    long = dest / "x" / ("long" * 60)
    assert sorted(os.listxattr(long)) == ["trusted.t", "user.k"]
    assert os.getxattr(long, "user.k") == b"v"


def test_whiteouts_become_overlay_form(dest: Path) -> None:
    _apply(build_tar([{"name": "etc/.wh.passwd"}, {"name": "var/.wh..wh..opq"}]), dest)
    whiteout = (dest / "etc/passwd").lstat()
    assert stat.S_ISCHR(whiteout.st_mode) and whiteout.st_rdev == 0
    assert os.getxattr(dest / "var", "trusted.overlay.opaque") == b"y"
    assert not (dest / "etc/.wh.passwd").exists() and not (dest / "var/.wh..wh..opq").exists()


def test_two_layers_in_an_overlay_mount(tmp_path: Path) -> None:
    lower, upper, merged = tmp_path / "l1", tmp_path / "l2", tmp_path / "merged"
    for path in (lower, upper, merged):
        path.mkdir()
    _apply(
        build_tar(
            [
                {"name": "keep", "data": b"k"},
                {"name": "gone", "data": b"g"},
                {"name": "d/", "type": DIR},
                {"name": "d/old", "data": b"o"},
            ]
        ),
        lower,
    )
    _apply(
        build_tar(
            [
                {"name": ".wh.gone"},
                {"name": "d/", "type": DIR},
                {"name": "d/.wh..wh..opq"},
                {"name": "d/new", "data": b"n"},
            ]
        ),
        upper,
    )
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o", f"lowerdir={upper}:{lower}", str(merged)], check=True)
    try:
        assert sorted(os.listdir(merged)) == ["d", "keep"]
        assert os.listdir(merged / "d") == ["new"]
    finally:
        subprocess.run(["umount", str(merged)], check=True)


def test_directory_mtime_is_set_after_its_contents(dest: Path) -> None:
    _apply(
        build_tar([{"name": "d/", "type": DIR, "mtime": 1234}, {"name": "d/f", "data": b"x"}, {"name": "d/.wh.g"}]),
        dest,
    )
    assert (dest / "d").stat().st_mtime == 1234


def test_later_entry_replaces_earlier_directory(dest: Path) -> None:
    _apply(
        build_tar([{"name": "d/", "type": DIR}, {"name": "d/f", "data": b"x"}, {"name": "d", "data": b"file now"}]),
        dest,
    )
    assert (dest / "d").read_bytes() == b"file now"


@pytest.mark.parametrize("damage", ["truncated header", "bad checksum", "truncated data"])
def test_malformed_tar_is_invalid(dest: Path, damage: str) -> None:
    data = bytearray(
        build_tar([{"name": "a", "data": b"1" * 2000}, {"name": "b", "data": b"2"}], fmt=tarfile.USTAR_FORMAT)
    )
    if damage == "bad checksum":
        data[2560 + 3] ^= 0x20
    cut = {"truncated header": 2560 + 200, "truncated data": 1000}.get(damage, len(data))
    with pytest.raises(InvalidArgument):
        _apply(bytes(data[:cut]), dest)


@pytest.mark.parametrize(
    "compress", [lambda d: d, gzip.compress, zstandard.ZstdCompressor().compress], ids=["plain", "gzip", "zstd"]
)
def test_diff_id_is_the_uncompressed_digest(tmp_path: Path, compress) -> None:
    data = build_tar([{"name": "f", "data": os.urandom(100_000)}]) + bytes(10240)
    (tmp_path / "out").mkdir()
    diff_id, size = apply_layer(io.BytesIO(compress(data)), tmp_path / "out")
    assert diff_id == "sha256:" + hashlib.sha256(data).hexdigest() and size == 100_000


def test_truncated_zstd_layer_is_invalid(dest: Path) -> None:
    data = build_tar([{"name": "f", "data": os.urandom(100_000)}])
    stream = zstandard.ZstdCompressor().compress(data)
    with pytest.raises(InvalidArgument):
        _apply(stream[: len(stream) // 2], dest)


def test_round_trip_write_tar_then_apply_layer(tmp_path: Path) -> None:
    source, copy = tmp_path / "source", tmp_path / "copy"
    copy.mkdir()
    _apply(
        build_tar(
            [
                {"name": "bin/", "type": DIR, "mode": 0o755},
                {"name": "bin/tool", "data": os.urandom(70_000), "mode": 0o4711, "uid": 3},
                {"name": "bin/alias", "type": LNK, "linkname": "bin/tool"},
                {"name": "lib", "type": SYM, "linkname": "usr/lib"},
                {"name": "dev/tty", "type": CHR, "devmajor": 5, "devminor": 0},
                {"name": "p/" * 80 + "deep", "data": b"deep", "pax_headers": {"SCHILY.xattr.user.a": "b"}},
            ]
        ),
        source.mkdir() or source,
    )
    first = io.BytesIO()
    write_tar(source, first)
    apply_layer(io.BytesIO(first.getvalue()), copy)
    second = io.BytesIO()
    write_tar(copy, second)
    assert first.getvalue() == second.getvalue()
    with tarfile.open(fileobj=io.BytesIO(first.getvalue())) as tar:
        tool = tar.getmember("bin/tool")  # sorted after bin/alias, so the link is this one
        assert tool.islnk() and tool.linkname == "bin/alias"
        assert tar.getmember("bin/alias").mode == 0o4711


def test_non_utf8_names_survive_a_round_trip(tmp_path: Path) -> None:
    source, copy = tmp_path / "source", tmp_path / "copy"
    source.mkdir()
    copy.mkdir()
    raw = os.fsdecode(b"caf\xe9-latin1")
    (source / raw).write_bytes(b"x")
    tar = io.BytesIO()
    write_tar(source, tar)
    apply_layer(io.BytesIO(tar.getvalue()), copy)
    assert os.listdir(os.fsencode(copy)) == [b"caf\xe9-latin1"]


def test_compressed_diff_round_trip_keeps_the_diff_id(tmp_path: Path) -> None:
    from dockyard.archive import Compression, compressed_writer

    source = tmp_path / "source"
    (source / "d").mkdir(parents=True)
    (source / "d" / "f").write_bytes(os.urandom(50_000))
    plain, packed = io.BytesIO(), io.BytesIO()
    write_tar(source, plain)
    with compressed_writer(packed, Compression.GZIP) as writer:
        write_tar(source, writer)
    (tmp_path / "out").mkdir()
    diff_id, _ = apply_layer(io.BytesIO(packed.getvalue()), tmp_path / "out")
    assert diff_id == "sha256:" + hashlib.sha256(plain.getvalue()).hexdigest()


def test_bad_xattr_name_is_invalid(dest: Path) -> None:
    data = build_tar([{"name": "f", "data": b"x", "pax_headers": {"SCHILY.xattr.user.a\0b": "v"}}])
    with pytest.raises(InvalidArgument):
        _apply(data, dest)

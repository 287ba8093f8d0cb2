"""Header decoding and encoding, checked against the stdlib tarfile."""

from __future__ import annotations

import io
import tarfile

import pytest

from dockyard.archive.reader import TarReader
from dockyard.archive.tarformat import (
    BLOCK,
    EntryType,
    Member,
    decode_header,
    encode_member,
    parse_pax,
)
from dockyard.errors import InvalidArgument
from tests.archive.archive_support import build_tar


def test_decode_ustar_fields() -> None:
    data = build_tar([{"name": "a/b", "data": b"xyz", "uid": 7, "gid": 8, "mode": 0o4755}], fmt=tarfile.USTAR_FORMAT)
    raw = decode_header(data[:BLOCK])
    assert raw.member == Member(
        name="a/b", type=EntryType.REGULAR, mode=0o4755, uid=7, gid=8, size=3, mtime_ns=1_600_000_000 * 10**9
    )


def test_decode_ustar_prefix_field() -> None:
    name = "d" * 120 + "/" + "f" * 90
    data = build_tar([{"name": name}], fmt=tarfile.USTAR_FORMAT)
    assert decode_header(data[:BLOCK]).member.name == name


def test_decode_gnu_base256_numbers() -> None:
    data = build_tar([{"name": "big", "uid": 10**10, "gid": 3}], fmt=tarfile.GNU_FORMAT)
    assert decode_header(data[:BLOCK]).member.uid == 10**10


def test_bad_checksum_is_refused() -> None:
    block = bytearray(build_tar([{"name": "f"}])[:BLOCK])
    block[0] ^= 1
    with pytest.raises(InvalidArgument, match="checksum"):
        decode_header(bytes(block))


def test_unknown_typeflag_is_refused() -> None:
    data = build_tar([{"name": "f", "type": b"Z"}], fmt=tarfile.USTAR_FORMAT)
    with pytest.raises(InvalidArgument, match="unhandled tar header type"):
        decode_header(data[:BLOCK])


def test_parse_pax_records() -> None:
    data = b"20 path=a/very/long\n27 SCHILY.xattr.user.k=\x00\xff\n\n"
    assert parse_pax(data) == {"path": b"a/very/long", "SCHILY.xattr.user.k": b"\x00\xff\n"}


@pytest.mark.parametrize("data", [b"5 path=abc\n", b"x path=a\n", b"99 path=a\n", b"8 pathx\n"])
def test_parse_pax_refuses_malformed(data: bytes) -> None:
    with pytest.raises(InvalidArgument):
        parse_pax(data)


def _read_back(member: Member, data: bytes = b"") -> tarfile.TarInfo:
    body = encode_member(member) + data + bytes(-len(data) % BLOCK) + bytes(2 * BLOCK)
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        return tar.next()


@pytest.mark.parametrize(
    "member",
    [
        Member(name="short", type=EntryType.REGULAR, size=3),
        Member(name="p/" * 60 + "file", type=EntryType.REGULAR, size=3),
        Member(name="n" * 300, type=EntryType.REGULAR, size=3, uid=5_000_000, gid=9),
        Member(name="caf\u00e9", type=EntryType.REGULAR, size=3, xattrs={"user.a": b"\x00\xff"}),
        Member(name="s", type=EntryType.SYMLINK, linkname="t" * 150),
        Member(name="dev/sda", type=EntryType.BLOCK, devmajor=8, devminor=1, mode=0o660),
        Member(name="d/", type=EntryType.DIRECTORY, mode=0o1777, mtime_ns=-5 * 10**9),
    ],
)
def test_encoded_headers_read_back_with_tarfile_and_with_our_reader(member: Member) -> None:
    info = _read_back(member, b"abc"[: member.size])
    assert (info.name, info.uid, info.gid, info.mode) == (member.name.rstrip("/"), member.uid, member.gid, member.mode)
    assert info.linkname == member.linkname and info.mtime == member.mtime_ns // 10**9
    assert {
        k.removeprefix("SCHILY.xattr."): v.encode("utf-8", "surrogateescape")
        for k, v in info.pax_headers.items()
        if k.startswith("SCHILY")
    } == member.xattrs
    body = encode_member(member) + b"abc"[: member.size].ljust(BLOCK * (member.size > 0), b"\0")
    assert list(TarReader([body])) == [member]


def test_pax_record_length_crossing_a_digit_boundary() -> None:
    for size in range(80, 120):
        member = Member(name="x" * size + "/f", type=EntryType.REGULAR)
        assert _read_back(member).name == member.name


def test_signed_checksum_of_old_tars_is_accepted() -> None:
    block = bytearray(encode_member(Member(name="x", type=EntryType.REGULAR)))
    block[265:268] = b"\xe9\xe9\xe9"  # a user name in latin-1
    signed = sum(b - 256 if b > 127 else b for b in block[:148] + b" " * 8 + block[156:])
    block[148:156] = b"%06o\0 " % signed
    assert decode_header(bytes(block)).member.name == "x"
    block[148:156] = b"%06o\0 " % (signed + 1)
    with pytest.raises(InvalidArgument):
        decode_header(bytes(block))

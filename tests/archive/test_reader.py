"""The streaming reader, fed archives written by tarfile in every format and chunking."""

from __future__ import annotations

import tarfile

import pytest

from dockyard.archive.reader import MAX_META, TarReader
from dockyard.archive.tarformat import EntryType
from dockyard.errors import InvalidArgument
from tests.archive.archive_support import build_tar

ENTRIES = [
    {"name": "d/", "type": tarfile.DIRTYPE, "mode": 0o1777},
    {"name": "d/file", "data": b"hello" * 300, "uid": 12, "gid": 34},
    {"name": "d/" + "long" * 40, "data": b"x"},
    {"name": "d/link", "type": tarfile.SYMTYPE, "linkname": "../" + "t" * 120},
    {"name": "d/hard", "type": tarfile.LNKTYPE, "linkname": "d/file"},
    {"name": "dev/null", "type": tarfile.CHRTYPE, "devmajor": 1, "devminor": 3},
    {"name": "empty", "data": b""},
]


def _read(chunks: list[bytes]) -> list[tuple[str, EntryType, bytes, str]]:
    reader = TarReader(chunks)
    out = [(m.name, m.type, b"".join(reader.data()), m.linkname) for m in reader]
    reader.drain()
    return out


def _chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
@pytest.mark.parametrize("chunk", [1, 7, 512, 1 << 20])
def test_reads_every_format_at_any_chunking(fmt: int, chunk: int) -> None:
    data = build_tar(ENTRIES, fmt=fmt)
    got = _read(_chunked(data, chunk))
    assert [(name, payload, link) for name, _, payload, link in got] == [
        ("d/", b"", ""),
        ("d/file", b"hello" * 300, ""),
        ("d/" + "long" * 40, b"x", ""),
        ("d/link", b"", "../" + "t" * 120),
        ("d/hard", b"", "d/file"),
        ("dev/null", b"", ""),
        ("empty", b"", ""),
    ]
    assert [kind for _, kind, _, _ in got][:2] == [EntryType.DIRECTORY, EntryType.REGULAR]


def test_unread_data_is_skipped() -> None:
    data = build_tar(ENTRIES)
    assert [m.name for m in TarReader(_chunked(data, 100))][1:3] == ["d/file", "d/" + "long" * 40]


def test_pax_overrides_and_xattrs() -> None:
    data = build_tar(
        [
            {
                "name": "x",
                "data": b"1",
                "pax_headers": {"path": "real/name", "uid": "4000000", "mtime": "1.5", "SCHILY.xattr.user.k": "v"},
            }
        ]
    )
    (member,) = TarReader([data])
    assert (member.name, member.uid, member.mtime_ns, dict(member.xattrs)) == (
        "real/name",
        4_000_000,
        1_500_000_000,
        {"user.k": b"v"},
    )


def test_empty_stream_and_missing_end_blocks_are_a_clean_end() -> None:
    assert list(TarReader([])) == []
    data = build_tar([{"name": "f", "data": b"abc"}])
    assert [m.name for m in TarReader([data[:1024]])] == ["f"]


@pytest.mark.parametrize("cut", [100, 512 + 2, 1023])
def test_truncated_archive_is_refused(cut: int) -> None:
    data = build_tar([{"name": "f", "data": b"a" * 600}, {"name": "g", "data": b"b"}], fmt=tarfile.USTAR_FORMAT)
    with pytest.raises(InvalidArgument, match="unexpected EOF"):
        _read([data[:cut]])


def test_truncated_second_header_is_refused() -> None:
    data = build_tar([{"name": "f", "data": b"a"}, {"name": "g"}], fmt=tarfile.USTAR_FORMAT)
    with pytest.raises(InvalidArgument, match="unexpected EOF"):
        _read([data[: 1024 + 100]])


def test_oversized_metadata_is_refused() -> None:
    data = build_tar([{"name": "x", "pax_headers": {"comment": "c" * (MAX_META + 1)}}])
    with pytest.raises(InvalidArgument, match="too large"):
        _read([data])


def test_gnu_sparse_is_refused() -> None:
    data = build_tar([{"name": "x", "pax_headers": {"GNU.sparse.major": "1"}}])
    with pytest.raises(InvalidArgument, match="sparse"):
        _read([data])


def test_global_pax_applies_to_later_entries_but_not_its_path() -> None:
    data = build_tar([{"name": "a"}, {"name": "b"}])
    glob = build_tar([{"name": "g", "type": tarfile.XGLTYPE}], fmt=tarfile.USTAR_FORMAT)
    records = b"10 uid=77\n12 path=bad\n"
    header = bytearray(glob[:512])
    header[124:136] = b"%011o\0" % len(records)
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)
    stream = bytes(header) + records.ljust(512, b"\0") + data
    assert [(m.name, m.uid) for m in TarReader([stream])] == [("a", 77), ("b", 77)]


@pytest.mark.parametrize(
    "records", [{"size": "-5"}, {"uid": "-1"}, {"gid": str(1 << 40)}, {"mtime": "1" + "0" * 30}, {"size": "12x"}]
)
def test_out_of_range_numbers_are_refused(records: dict) -> None:
    data = build_tar([{"name": "x", "data": b"1", "pax_headers": records}])
    with pytest.raises(InvalidArgument):
        _read([data])

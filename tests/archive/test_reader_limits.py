"""Hostile tar metadata is an InvalidArgument with a reason, never a crash: huge PAX numbers,
very deep paths, and PAX headers (per entry or global) piling up beyond a bound."""

from __future__ import annotations

import io
import tarfile

import pytest

from dockyard.archive.reader import MAX_DEPTH, TarReader
from dockyard.errors import InvalidArgument


def read_all(data: bytes) -> list[str]:
    return [member.name for member in TarReader(iter([data]))]


def pax_tar(name: str = "f", pax: dict[str, str] | None = None, global_pax: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT, pax_headers=global_pax or {}) as tar:
        info = tarfile.TarInfo(name)
        info.pax_headers = pax or {}
        tar.addfile(info, io.BytesIO(b""))
    return buffer.getvalue()


def pax_block(records: bytes, kind: bytes) -> bytes:
    header = tarfile.TarInfo("././@PaxHeader")
    header.type, header.size = kind, len(records)
    return header.tobuf(tarfile.USTAR_FORMAT) + records + b"\0" * (-len(records) % 512)


def record(key: str, value: str) -> bytes:
    body = f" {key}={value}\n".encode()
    length = len(body) + len(str(len(body)))
    length = len(body) + len(str(length))
    return str(length).encode() + body


def test_a_pax_mtime_of_5000_digits_is_refused():
    with pytest.raises(InvalidArgument, match="bad PAX time"):
        read_all(pax_tar(pax={"mtime": "9" * 5000}))


def test_a_path_of_1200_components_is_refused():
    with pytest.raises(InvalidArgument, match=f"more than {MAX_DEPTH} components"):
        read_all(pax_tar("a/" * 1199 + "f"))
    assert read_all(pax_tar("a/" * 100 + "f")) == ["a/" * 100 + "f"]


def test_pax_headers_piling_up_before_one_entry_are_bounded():
    chunk = record("comment", "x" * 100_000)
    data = b"".join(pax_block(chunk, tarfile.XHDTYPE) for _ in range(20)) + pax_tar()
    with pytest.raises(InvalidArgument, match="metadata entry too large"):
        read_all(data)


def test_global_pax_records_piling_up_are_bounded():
    entry = pax_tar()[:512]  # one header of an empty file, without the end blocks
    blocks = b"".join(pax_block(record(f"k{i}", "x" * 100_000), tarfile.XGLTYPE) + entry for i in range(20))
    with pytest.raises(InvalidArgument, match="PAX global records too large"):
        read_all(blocks + pax_tar())

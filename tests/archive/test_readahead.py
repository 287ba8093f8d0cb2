"""read_ahead: the chunks in order from a thread of their own, errors where they belong."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
import threading
import time

import pytest

from dockyard.archive import extract
from dockyard.archive.readahead import read_ahead


def test_every_chunk_in_order_from_another_thread():
    seen_in: set[str] = set()

    def chunks():
        for n in range(100):
            seen_in.add(threading.current_thread().name)
            yield bytes([n])

    assert b"".join(read_ahead(chunks(), depth=3)) == bytes(range(100))
    assert seen_in == {"read-ahead"}


def test_the_producers_error_is_raised_where_its_chunk_would_have_been():
    def chunks():
        yield b"a"
        yield b"b"
        raise ValueError("corrupt")

    got = []
    with pytest.raises(ValueError, match="corrupt"):
        for chunk in read_ahead(chunks()):
            got.append(chunk)
    assert got == [b"a", b"b"]


def test_a_consumer_that_stops_early_stops_the_producer():
    produced = []

    def chunks():
        for n in range(10_000):
            produced.append(n)
            yield b"x"

    before = {t for t in threading.enumerate() if t.name == "read-ahead"}
    reader = read_ahead(chunks(), depth=2)
    assert next(reader) == b"x"
    reader.close()  # e.g. the tar was refused after its first chunk
    time.sleep(0.3)  # past the producer's next look (0.1 s)
    assert {t for t in threading.enumerate() if t.name == "read-ahead"} == before  # it has ended
    assert len(produced) <= 5


def test_apply_layer_decompresses_and_hashes_on_a_thread_of_its_own(monkeypatch, tmp_path):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo("hello")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"world"))
    threads: set[str] = set()
    original = extract.decompressed_chunks

    def recorded(stream):
        for chunk in original(stream):
            threads.add(threading.current_thread().name)
            yield chunk

    monkeypatch.setattr(extract, "decompressed_chunks", recorded)
    diff_id, _ = extract.apply_layer(io.BytesIO(gzip.compress(raw.getvalue())), tmp_path)
    assert threads == {"read-ahead"} and (tmp_path / "hello").read_bytes() == b"world"
    assert diff_id == "sha256:" + hashlib.sha256(raw.getvalue()).hexdigest()

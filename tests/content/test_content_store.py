"""Conformance tests for ContentStore implementations (containerd's content testsuite, in spirit)."""

import os
import threading

import pytest

from dockyard.content.local import LocalContentStore
from dockyard.errors import InvalidArgument, NotFound
from dockyard.oci.digest import Digest
from dockyard.paths import DataRoot

DATA = b"hello content store\n" * 1000


@pytest.fixture(params=["local"])
def store(request, tmp_path):
    """Every ContentStore implementation runs the same tests."""
    return LocalContentStore(DataRoot(tmp_path))


def visible(store):
    return sorted(store.list())


def ingest_files(store):
    return os.listdir(store.root.ingest)


def test_written_blob_is_visible_only_after_commit(store):
    with store.writer(Digest.of(DATA), len(DATA)) as w:
        w.write(DATA[:100])
        w.write(DATA[100:])
        assert w.offset == len(DATA)
        assert not store.exists(Digest.of(DATA)) and visible(store) == []
        digest = w.commit()
    assert digest == Digest.of(DATA)
    assert store.exists(digest) and store.size(digest) == len(DATA)
    with store.open(digest) as f:
        assert f.read() == DATA
    assert store.path(digest).read_bytes() == DATA
    assert visible(store) == [digest] and ingest_files(store) == []


def test_commit_without_expectations_names_the_blob(store):
    with store.writer() as w:
        w.write(b"abc")
        assert w.commit() == Digest.of(b"abc")


@pytest.mark.parametrize(
    "expected,size,message",
    [
        (Digest.of(b"other"), None, "unexpected commit digest"),
        (None, 5, "unexpected commit size"),
    ],
)
def test_mismatch_leaves_nothing_visible(store, expected, size, message):
    with pytest.raises(InvalidArgument, match=message):
        with store.writer(expected, size) as w:
            w.write(b"abc")
            w.commit()
    assert visible(store) == [] and ingest_files(store) == []


def test_leaving_without_commit_aborts(store):
    with pytest.raises(RuntimeError):
        with store.writer() as w:
            w.write(b"partial")
            raise RuntimeError("connection lost")
    assert visible(store) == [] and ingest_files(store) == []


def test_write_after_abort_is_refused(store):
    w = store.writer()
    w.abort()
    w.abort()
    with pytest.raises(InvalidArgument):
        w.write(b"x")


def test_same_blob_written_twice_concurrently(store):
    errors = []

    def write():
        try:
            store.write_blob(DATA, Digest.of(DATA))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and visible(store) == [Digest.of(DATA)] and ingest_files(store) == []


def test_missing_blob_is_not_found(store):
    missing = Digest.of(b"missing")
    assert not store.exists(missing)
    for call in (store.open, store.size, store.path, store.delete):
        with pytest.raises(NotFound, match="not found"):
            call(missing)


def test_delete_removes_blob(store):
    digest = store.write_blob(b"gone soon")
    store.delete(digest)
    assert not store.exists(digest) and visible(store) == []


def test_published_blob_is_read_only(store):
    digest = store.write_blob(b"immutable")
    assert store.path(digest).stat().st_mode & 0o222 == 0


def test_clean_ingests_removes_leftovers_but_not_open_writers(store):
    leftover = store.writer()
    leftover.write(b"crashed half way")
    (store.root.ingest / "olddir").mkdir()
    assert store.clean_ingests() == 1  # the writer is still open here
    assert ingest_files(store) == [leftover.path.name]
    restarted = type(store)(store.root)  # the next daemon: nobody has it open any more
    assert restarted.clean_ingests() == 1
    assert ingest_files(store) == [] and visible(store) == []


def test_list_skips_stray_files(store):
    digest = store.write_blob(b"x")
    (store.root.blobs / "sha256" / "not-a-digest").write_text("junk")
    assert visible(store) == [digest]

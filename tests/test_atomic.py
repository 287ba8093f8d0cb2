"""Atomic writes: the target holds the old bytes or the new, and no temp file is ever left."""

import json
import os

import pytest

from dockyard import atomic


def test_write_replaces_the_whole_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "state.json"
    target.write_text("old")
    atomic.write_json(target, {"a": 1})
    assert json.loads(target.read_text()) == {"a": 1}
    assert os.listdir(tmp_path) == ["state.json"]


def test_mode_is_applied_to_a_new_file(tmp_path):
    target = tmp_path / "config.json"
    atomic.write_json(target, {}, mode=0o600, indent="\t")
    assert target.stat().st_mode & 0o777 == 0o600


def test_a_failure_mid_write_keeps_the_old_content_and_removes_the_temp(tmp_path):
    target = tmp_path / "exported.tar"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic.replacing(target) as out:
        out.write(b"half of the new")
        raise RuntimeError("stream broke")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["exported.tar"]


def test_a_failed_rename_removes_the_temp(tmp_path):
    target = tmp_path / "a-directory"
    target.mkdir()
    (target / "keep").write_text("x")  # os.replace cannot put a file over a non-empty directory
    with pytest.raises(OSError):
        atomic.write_bytes(target, b"new")
    assert sorted(os.listdir(tmp_path)) == ["a-directory"]


def test_temp_dir_on_the_same_filesystem(tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    atomic.write_bytes(tmp_path / "tag", b"sha256:x", temp_dir=scratch)
    assert (tmp_path / "tag").read_bytes() == b"sha256:x"
    assert os.listdir(scratch) == []


def test_leftovers_names_only_temps_of_that_file(tmp_path):
    crashed = tmp_path / ".exit.json.0123456789ab.tmp"
    crashed.write_text("{")
    (tmp_path / ".exit.json.other.tmp").write_text("")  # not one of ours
    (tmp_path / ".exit.json.ab.0123456789ab.tmp").write_text("")  # a temp of "exit.json.ab"
    assert atomic.leftovers(tmp_path / "exit.json") == [str(crashed)]
    assert atomic.leftovers(tmp_path / "missing-dir" / "x") == []


def test_leftover_of_names_what_a_temp_was_written_for():
    assert atomic.leftover_of(".exit.json.0123456789ab.tmp") == "exit.json"
    assert atomic.leftover_of(".exit.json.ab.0123456789ab.tmp") == "exit.json.ab"
    for other in (
        "exit.json",
        ".exit.json.other.tmp",
        ".0123456789ab.tmp",
        "..0123456789ab.tmp",
        ".x.0123456789AB.tmp",
    ):
        assert atomic.leftover_of(other) is None, other


def test_unsynced_writes_replace_as_atomically_without_any_fsync(tmp_path, monkeypatch):
    synced = []
    fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or fsync(fd))
    target = tmp_path / "exit.json"
    atomic.write_json(target, {"exit_code": 0}, durable=False)
    atomic.write_json(target, {"exit_code": 3}, durable=False)
    assert json.loads(target.read_text()) == {"exit_code": 3} and synced == []
    assert os.listdir(tmp_path) == ["exit.json"]
    atomic.write_json(target, {"exit_code": 4})
    assert len(synced) == 2  # the file, then its directory

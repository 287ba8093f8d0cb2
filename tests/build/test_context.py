"""The build context: read once, indexed, hashed; paths and links kept inside it (pure)."""

from __future__ import annotations

import gzip
import io
import tarfile

import pytest

from dockyard.archive import EntryType
from dockyard.build.context import BuildContext, Spool
from dockyard.errors import InvalidArgument, NotFound
from tests.build.engine import context_tar


def receive(files, tmp_path, limit: int = 64 << 20) -> BuildContext:
    return BuildContext.receive(io.BytesIO(context_tar(files)), Spool(tmp_path, limit))


def test_entries_are_indexed_with_implied_directories(tmp_path):
    context = receive({"Dockerfile": "FROM x\n", "a/b/c.txt": "c"}, tmp_path)
    assert context.entry("a").type is EntryType.DIRECTORY and context.entry("a/b").type is EntryType.DIRECTORY
    assert context.read_text("Dockerfile") == "FROM x\n"
    assert context.walk("a") == ["a/b", "a/b/c.txt"]


@pytest.mark.parametrize("limit", [64 << 20, 1])  # in memory, and spilled to a file at once
def test_file_data_comes_back_from_the_spool(tmp_path, limit):
    context = receive({"one": "1" * 5000, "two": "2" * 3}, tmp_path, limit)
    assert context.open(context.entry("one")).read() == b"1" * 5000
    assert context.read_text("two") == "222"


def test_gzip_contexts_are_read(tmp_path):
    data = gzip.compress(context_tar({"f": "x"}))
    context = BuildContext.receive(io.BytesIO(data), Spool(tmp_path))
    assert context.read_text("f") == "x"


def test_checksum_follows_content_and_mode_not_mtime(tmp_path):
    base = receive({"d/f": "x"}, tmp_path).checksum(["d"])
    assert receive({"d/f": "y"}, tmp_path).checksum(["d"]) != base
    assert receive({"d/f": ("x", 0o755)}, tmp_path).checksum(["d"]) != base
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name in ("d/",):
            info = tarfile.TarInfo(name.rstrip("/"))
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        info = tarfile.TarInfo("d/f")
        info.size, info.mtime = 1, 12345
        tar.addfile(info, io.BytesIO(b"x"))
    later = BuildContext.receive(io.BytesIO(out.getvalue()), Spool(tmp_path))
    assert later.checksum(["d/f"]) == receive({"d/f": "x"}, tmp_path).checksum(["d/f"])


def test_entries_climbing_out_are_refused(tmp_path):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        info = tarfile.TarInfo("../escape")
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(InvalidArgument, match="outside of the context"):
        BuildContext.receive(io.BytesIO(out.getvalue()), Spool(tmp_path))


def test_sources_glob_and_follow_links_inside_only(tmp_path):
    files = {
        "src/a.py": "a",
        "src/b.py": "b",
        "src/c.txt": "c",
        "inside": ("symlink", "src"),
        "out": ("symlink", "../.."),
        "abs": ("symlink", "/etc"),
    }
    context = receive(files, tmp_path)
    assert context.sources("src/*.py") == ["src/a.py", "src/b.py"]
    assert context.sources("./inside/c.txt") == ["src/c.txt"]
    assert context.sources("/src") == ["src"]
    for source in ("out/x", "abs/passwd", "../x", "src/../../x"):
        with pytest.raises(InvalidArgument, match="forbidden path outside the build context"):
            context.sources(source)
    with pytest.raises(NotFound, match="file not found in build context"):
        context.sources("missing")
    with pytest.raises(NotFound, match="no source files were specified"):
        context.sources("*.none")


def test_exclude_forgets_entries(tmp_path):
    context = receive({"keep": "k", "drop/x": "x"}, tmp_path)
    context.exclude(lambda path: path.startswith("drop"))
    assert sorted(context.entries) == ["keep"]

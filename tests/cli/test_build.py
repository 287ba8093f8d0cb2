"""`dockyard build` against the scripted daemon (pattern rules: tests/build/test_dockerignore.py)."""

import io
import json
import os
import tarfile

from tests.cli.recorder import chunked


def make_context(root):
    (root / "Dockerfile").write_text("FROM busybox\nCOPY . /app\n")
    (root / ".dockerignore").write_text("*.log\nDockerfile\nsecrets\n")
    (root / "app.py").write_text("print(1)\n")
    (root / "debug.log").write_text("noise")
    (root / "secrets").mkdir()
    (root / "secrets" / "key").write_text("k")
    (root / "pkg").mkdir()
    (root / "pkg" / "mod.py").write_text("")


def build_reply():
    lines = [
        {"stream": "Step 1/2 : FROM busybox\n"},
        {"stream": " ---> abc\n"},
        {"aux": {"ID": "sha256:" + "9" * 64}},
        {"stream": "Successfully built 999999999999\n"},
    ]
    return chunked(200, [json.dumps(m).encode() + b"\r\n" for m in lines])


def test_build_sends_the_filtered_context_and_prints_the_stream(cli, daemon, tmp_path):
    context = tmp_path / "ctx"
    context.mkdir()
    make_context(context)
    daemon.replies[("POST", "/build")] = build_reply()
    done = cli(
        "build",
        "-t",
        "app:1",
        "-t",
        "app:latest",
        "--build-arg",
        "V=2",
        "--no-cache",
        "--iidfile",
        str(tmp_path / "iid"),
        str(context),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"Step 1/2 : FROM busybox\n ---> abc\nSuccessfully built 999999999999\n"
    assert (tmp_path / "iid").read_text() == "sha256:" + "9" * 64
    request = daemon.find("POST", "/build")[0]
    assert request.query["t"] == ["app:1", "app:latest"] and request.query["dockerfile"] == ["Dockerfile"]
    assert json.loads(request.query["buildargs"][0]) == {"V": "2"} and request.query["nocache"] == ["1"]
    with tarfile.open(fileobj=io.BytesIO(request.body)) as tar:
        assert sorted(tar.getnames()) == [".dockerignore", "Dockerfile", "app.py", "pkg", "pkg/mod.py"]


def test_build_quiet_prints_only_the_id_and_dockerfile_outside_context(cli, daemon, tmp_path):
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "f").write_text("x")
    outside = tmp_path / "Other.dockerfile"
    outside.write_text("FROM scratch\n")
    daemon.replies[("POST", "/build")] = build_reply()
    done = cli("build", "-q", "-f", str(outside), str(context))
    assert done.stdout == b"sha256:" + b"9" * 64 + b"\n"
    request = daemon.find("POST", "/build")[0]
    name = request.query["dockerfile"][0]
    assert name.startswith(".dockerfile.")
    with tarfile.open(fileobj=io.BytesIO(request.body)) as tar:
        assert tar.extractfile(name).read() == b"FROM scratch\n"


def test_build_error_in_stream(cli, daemon, tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM nothing\n")
    daemon.replies[("POST", "/build")] = chunked(
        200, [b'{"errorDetail":{"message":"pull access denied"},"error":"pull access denied"}\n']
    )
    done = cli("build", str(tmp_path))
    assert done.returncode == 1 and done.stderr == b"pull access denied\n"


def test_build_missing_context(cli):
    done = cli("build", "/nonexistent/ctx")
    assert done.returncode == 1 and b'path "/nonexistent/ctx" not found' in done.stderr


def test_the_context_tar_holds_what_dockerignore_keeps_with_modes_and_links(tmp_path):
    from dockyard.cli.commands.build import write_context

    (tmp_path / "app" / "skip").mkdir(parents=True)
    (tmp_path / "app" / "run.sh").write_text("echo hi\n")
    (tmp_path / "app" / "run.sh").chmod(0o751)
    (tmp_path / "app" / "skip" / "x").write_text("x")
    (tmp_path / "app" / "skip" / "keep").write_text("k")
    os.symlink("run.sh", tmp_path / "app" / "link")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / ".dockerignore").write_text("app/skip\n!app/skip/keep\n")
    spool = io.BytesIO()
    write_context(str(tmp_path), "Dockerfile", None, spool)
    spool.seek(0)
    members = {m.name: m for m in tarfile.open(fileobj=spool)}
    assert set(members) == {".dockerignore", "Dockerfile", "app", "app/run.sh", "app/link", "app/skip/keep"}
    assert members["app/run.sh"].mode == 0o751 and members["app/link"].linkname == "run.sh"
    assert members["app"].isdir() and members["app/skip/keep"].size == 1

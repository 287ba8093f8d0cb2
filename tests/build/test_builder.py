"""The builder over a real engine (root): stages, cache, owners and modes, bad input."""

from __future__ import annotations

import io
import tarfile

import pytest

from dockyard.errors import DockerfileParseError
from tests.build.engine import Engine, error, text

pytestmark = pytest.mark.root

MULTI_STAGE = """\
FROM busybox AS base
RUN echo built > /built.txt
FROM busybox AS unused
RUN exit 7
FROM busybox
COPY --from=base /built.txt /from-base.txt
COPY app/ /app/
CMD ["cat", "/from-base.txt"]
"""


@pytest.fixture(scope="module")
def engine():
    instance = Engine()
    try:
        yield instance
    finally:
        instance.close()


def test_multi_stage_copy_from_and_unneeded_stages_skipped(engine):
    files = {"Dockerfile": MULTI_STAGE, "app/main.sh": "echo hi\n", "app/lib/x.txt": "x\n"}
    messages, image_id = engine.build(files, tags=["multi:1"])
    assert image_id, error(messages)
    output = text(messages)
    assert "exit 7" not in output  # the stage the target does not need never ran
    assert "Step 1/6 : FROM busybox AS base" in output and "Successfully tagged multi:1" in output
    assert engine.run(image_id, "cat", "/from-base.txt", "/app/main.sh", "/app/lib/x.txt") == "built\necho hi\nx\n"
    assert engine.images.resolve("multi:1").id == image_id


def test_cache_hit_survives_a_restart_and_misses_after_a_file_change(engine):
    files = {"Dockerfile": MULTI_STAGE, "app/main.sh": "echo one\n"}
    _, first = engine.build(files)
    engine.restart()  # a new daemon over the same data root
    messages, second = engine.build(files)
    assert second == first
    assert text(messages).count(" ---> Using cache") == 4
    messages, third = engine.build({**files, "app/main.sh": "echo two\n"})
    steps = text(messages).split("Step ")
    copy_app = next(s for s in steps if s.startswith("5/6"))
    assert "Using cache" not in copy_app and "Using cache" in next(s for s in steps if s.startswith("4/6"))
    assert third != first and engine.run(third, "cat", "/app/main.sh") == "echo two\n"


def test_build_arg_change_misses_and_no_cache_rebuilds(engine):
    dockerfile = "FROM busybox\nARG GREETING=hello\nRUN echo $GREETING > /greeting\n"
    _, first = engine.build({"Dockerfile": dockerfile}, build_args={"GREETING": "hi"})
    messages, again = engine.build({"Dockerfile": dockerfile}, build_args={"GREETING": "hi"})
    assert again == first and text(messages).count("Using cache") == 2
    messages, other = engine.build({"Dockerfile": dockerfile}, build_args={"GREETING": "bye"})
    assert other != first and engine.run(other, "cat", "/greeting") == "bye\n"
    assert "|1 GREETING=bye /bin/sh -c echo $GREETING > /greeting" in str(
        engine.images.config(engine.images.store.get(other))["history"]
    )
    messages, _ = engine.build({"Dockerfile": dockerfile}, build_args={"GREETING": "bye"}, no_cache=True)
    assert "Using cache" not in text(messages)
    messages, _ = engine.build({"Dockerfile": dockerfile}, build_args={"UNUSED": "1"})
    assert "[Warning] One or more build-args [UNUSED] were not consumed" in text(messages)


def test_dockerignore_leaves_files_out(engine):
    files = {
        "Dockerfile": "FROM busybox\nCOPY . /ctx/\nRUN find /ctx | sort\n",
        ".dockerignore": "secret*\n**/*.log\n!keep.log\nDockerfile\n",
        "secret.txt": "s",
        "a/debug.log": "d",
        "keep.log": "k",
        "a/code.py": "c",
    }
    messages, image_id = engine.build(files)
    assert image_id, error(messages)
    listing = engine.run(image_id, "find", "/ctx").split()
    assert sorted(listing) == ["/ctx", "/ctx/.dockerignore", "/ctx/a", "/ctx/a/code.py", "/ctx/keep.log"]


def test_chown_chmod_user_and_workdir(engine):
    dockerfile = """\
FROM busybox
COPY --chown=nobody:nogroup --chmod=0750 tool.sh /opt/tools/
COPY --chown=1234 data/ /data/
WORKDIR /work
USER nobody
RUN id -u > /tmp/uid && pwd > /tmp/pwd
"""
    files = {"Dockerfile": dockerfile, "tool.sh": ("echo tool\n", 0o644), "data/a.txt": "a", "data/sub/b.txt": "b"}
    messages, image_id = engine.build(files)
    assert image_id, error(messages)
    stat = engine.run(image_id, "stat", "-c", "%n %u %g %a", "/opt/tools/tool.sh", "/data/a.txt", "/data/sub/b.txt")
    assert stat.splitlines() == [
        "/opt/tools/tool.sh 65534 65534 750",
        "/data/a.txt 1234 1234 644",
        "/data/sub/b.txt 1234 1234 644",
    ]
    assert engine.run(image_id, "cat", "/tmp/uid", "/tmp/pwd") == "65534\n/work\n"
    config = engine.images.config(engine.images.store.get(image_id))["config"]
    assert config["User"] == "nobody" and config["WorkingDir"] == "/work"


def test_onbuild_triggers_run_in_the_child(engine):
    _, parent = engine.build({"Dockerfile": "FROM busybox\nONBUILD RUN echo triggered > /trigger\n"}, tags=["parent:1"])
    assert parent
    messages, child = engine.build({"Dockerfile": 'FROM parent:1\nCMD ["sh"]\n'})
    assert "# Executing 1 build trigger" in text(messages)
    assert engine.run(child, "cat", "/trigger") == "triggered\n"
    assert not engine.images.config(engine.images.store.get(child))["config"].get("OnBuild")


def test_add_extracts_a_local_tar_and_refuses_one_that_climbs_out(engine):
    good = _tar({"pkg/file.txt": b"inside"})
    messages, image_id = engine.build({"Dockerfile": "FROM busybox\nADD pkg.tar /opt/\n", "pkg.tar": good})
    assert image_id, error(messages)
    assert engine.run(image_id, "cat", "/opt/pkg/file.txt") == "inside"
    messages, image_id = engine.build(
        {"Dockerfile": "FROM busybox\nADD evil.tar /opt/\n", "evil.tar": _tar({"../../etc/evil": b"x"})}
    )
    assert image_id is None and "outside" in error(messages)


def test_reproducible_with_source_date_epoch(engine):
    files = {"Dockerfile": "FROM busybox\nCOPY f /f\nRUN echo made > /made\nENV A=1\n", "f": "data"}
    args = {"SOURCE_DATE_EPOCH": "1700000000"}
    _, first = engine.build(files, build_args=args, no_cache=True)
    _, second = engine.build(files, build_args=args, no_cache=True)
    assert first and first == second
    assert engine.images.config(engine.images.store.get(first))["created"] == "2023-11-14T22:13:20Z"


@pytest.mark.parametrize(
    ("dockerfile", "words"),
    [
        ("RUN true\n", "no build stage in current context"),
        ("FROM busybox\nFOO bar\n", "unknown instruction: FOO"),
    ],
)
def test_bad_dockerfiles_are_refused_before_any_step(engine, dockerfile, words):
    with pytest.raises(DockerfileParseError, match=words):
        engine.build({"Dockerfile": dockerfile})


@pytest.mark.parametrize(
    ("files", "words"),
    [
        ({"Dockerfile": "FROM busybox\nCOPY ../x /\n"}, "COPY failed: forbidden path outside the build context: ../x"),
        (
            {"Dockerfile": "FROM busybox\nCOPY link/passwd /\n", "link": ("symlink", "../../../../etc")},
            "COPY failed: forbidden path outside the build context",
        ),
        (
            {"Dockerfile": "FROM busybox\nCOPY abs /\n", "abs": ("symlink", "/etc/passwd")},
            "COPY failed: forbidden path outside the build context",
        ),
        ({"Dockerfile": "FROM busybox\nCOPY nothere /\n"}, "COPY failed: file not found in build context"),
    ],
)
def test_copy_never_reads_outside_the_context(engine, files, words):
    messages, image_id = engine.build(files, tags=["never:1"])
    assert image_id is None and words in error(messages)
    assert engine.images._lookup("never:1") is None


def test_failing_run_reports_code_and_output_and_tags_nothing(engine):
    messages, image_id = engine.build(
        {"Dockerfile": "FROM busybox\nRUN echo about to fail && exit 3\n"}, tags=["bad:1"]
    )
    assert image_id is None
    assert "about to fail" in text(messages)
    failure = next(m for m in messages if "error" in m)
    assert failure["errorDetail"] == {
        "code": 3,
        "message": "The command '/bin/sh -c echo about to fail && exit 3' returned a non-zero code: 3",
    }
    assert engine.images._lookup("bad:1") is None
    assert engine.containers.all() == []  # forcerm: the failed step's container is gone


def _tar(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_add_downloads_a_url_once_per_build(engine, tmp_path):
    import http.server
    import threading

    (tmp_path / "remote.txt").write_text("from the web\n")
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path))  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/remote.txt"
        files = {"Dockerfile": f"FROM busybox\nADD {url} /downloads/\n"}
        messages, image_id = engine.build(files)
        assert image_id, error(messages)
        assert engine.run(image_id, "cat", "/downloads/remote.txt") == "from the web\n"
        assert engine.run(image_id, "stat", "-c", "%a", "/downloads/remote.txt") == "600\n"
        messages, again = engine.build(files)
        assert again == image_id and "Using cache" in text(messages)
        (tmp_path / "remote.txt").write_text("changed\n")
        _, changed = engine.build(files)
        assert changed != image_id
    finally:
        server.shutdown()
        server.server_close()


PARALLEL = """\
FROM busybox AS one
RUN sleep 3 && echo one > /one
FROM busybox AS two
RUN sleep 3 && echo two > /two
FROM busybox
COPY --from=one /one /
COPY --from=two /two /
"""


def test_independent_stages_build_at_once_and_print_in_order(engine):
    import time

    began = time.monotonic()
    messages, image_id = engine.build({"Dockerfile": PARALLEL}, no_cache=True)
    elapsed = time.monotonic() - began
    assert image_id, error(messages)
    assert elapsed < 5.5  # one after the other would take over 6 s
    output = text(messages)
    positions = [output.index(f"Step {n}/7 :") for n in range(1, 8)]
    assert positions == sorted(positions)
    assert engine.run(image_id, "cat", "/one", "/two") == "one\ntwo\n"


def test_a_failed_stage_stops_the_stages_after_it(engine):
    import time

    dockerfile = (
        "FROM busybox AS bad\nRUN exit 4\nFROM busybox AS slow\nRUN sleep 60\nFROM busybox\nCOPY --from=bad / /x\n"
    )
    dockerfile += "COPY --from=slow / /y\n"
    began = time.monotonic()
    messages, image_id = engine.build({"Dockerfile": dockerfile}, no_cache=True)
    assert image_id is None and next(m for m in messages if "error" in m)["errorDetail"]["code"] == 4
    assert time.monotonic() - began < 30  # the sleeping stage was stopped, not waited for
    assert "Step 3/7" not in text(messages)
    assert engine.containers.all() == []


def test_heredoc_scripts_run_through_the_shell_or_as_a_file(engine):
    dockerfile = (
        "FROM busybox\n"
        "RUN <<EOF\necho one > /one\necho two >> /one\nEOF\n"
        'RUN <<EOF\n#!/bin/sh\necho "ran as $0" > /script.out\nEOF\n'
    )
    messages, image_id = engine.build({"Dockerfile": dockerfile})
    assert image_id, error(messages)
    assert engine.run(image_id, "cat", "/one", "/script.out") == "one\ntwo\nran as /dev/pipes/EOF\n"
    top = engine.images.store.get(image_id).top_layer
    assert not (engine.root.layers / top.hex / "diff" / "dev" / "pipes").exists()  # the script stayed out

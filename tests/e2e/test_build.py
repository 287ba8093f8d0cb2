"""`docker build` (classic builder API), the docker SDK and `dockyard build` against dockyard."""

from __future__ import annotations

import os
import subprocess
import uuid

import pytest

from tests.e2e.daemon import DOCKER

pytestmark = pytest.mark.root

DOCKERFILE = """\
FROM busybox AS build
WORKDIR /src
COPY src/ ./
RUN cat *.txt > /combined
FROM busybox
COPY --from=build /combined /combined
ENTRYPOINT ["cat"]
CMD ["/combined"]
"""


@pytest.fixture
def context(tmp_path):
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.txt").write_text("alpha\n")
    (tmp_path / "src" / "b.txt").write_text("beta\n")
    return tmp_path


def docker_build(daemon, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """The real docker CLI's classic builder (DOCKER_BUILDKIT=0) against dockyard."""
    env = {
        **os.environ,
        "DOCKER_HOST": daemon.host,
        "DOCKER_CONFIG": str(daemon.base / "docker-config"),
        "DOCKER_BUILDKIT": "0",
    }
    result = subprocess.run([DOCKER, "build", *args], capture_output=True, text=True, env=env, timeout=120)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_docker_cli_builds_and_runs(daemon, context):
    first = docker_build(daemon, "-t", "e2e/app:1", "-t", "e2e/app:2", str(context))
    assert "Step 1/8 : FROM busybox AS build" in first.stdout
    assert "Successfully tagged e2e/app:1" in first.stdout and "Successfully tagged e2e/app:2" in first.stdout
    assert daemon.docker("run", "--rm", "e2e/app:1").stdout == "alpha\nbeta\n"
    again = docker_build(daemon, "-t", "e2e/app:1", str(context))
    assert again.stdout.count("Using cache") == 6
    (context / "src" / "b.txt").write_text("gamma\n")
    changed = docker_build(daemon, "-t", "e2e/app:1", str(context))
    assert changed.stdout.count("Using cache") == 1  # WORKDIR only: the COPY and what follows ran
    assert daemon.docker("run", "--rm", "e2e/app:1").stdout == "alpha\ngamma\n"


def test_docker_cli_failing_run_exits_with_its_code(daemon, tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM busybox\nRUN echo failing && exit 5\n")
    result = docker_build(daemon, "-t", "e2e/failed", str(tmp_path), check=False)
    assert result.returncode == 5, result.stdout + result.stderr
    assert "failing" in result.stdout and "returned a non-zero code: 5" in result.stderr
    assert daemon.docker("image", "inspect", "e2e/failed", check=False).returncode != 0


def test_sdk_images_build(daemon, context):
    client = daemon.sdk()
    image, logs = client.images.build(path=str(context), tag="e2e/sdk:1", rm=True, buildargs={"UNUSED": "x"})
    assert "e2e/sdk:1" in image.tags
    assert any("Successfully built" in line.get("stream", "") for line in logs)
    assert client.containers.run("e2e/sdk:1", remove=True) == b"alpha\nbeta\n"


def test_dockyard_cli_quiet_iidfile_and_source_date_epoch(daemon, context, tmp_path):
    iid = tmp_path / "iid"
    args = ("build", "-q", "--no-cache", "--source-date-epoch", "1700000000", "--iidfile", str(iid), str(context))
    first = daemon.cli(*args).stdout.strip()
    second = daemon.cli(*args).stdout.strip()
    assert first.startswith("sha256:") and first == second == iid.read_text()
    shown = daemon.cli("build", "-t", "e2e/cli", str(context)).stdout
    assert "Step 3/8 : COPY src/ ./" in shown and "Successfully tagged e2e/cli:latest" in shown


def test_dockyard_cli_context_from_stdin_and_a_walk_that_fails(daemon, context):
    tarball = subprocess.run(["tar", "-cf", "-", "-C", str(context), "."], check=True, capture_output=True).stdout
    built = daemon.cli("build", "-q", "-t", "e2e/stdin", "-", input=tarball).stdout.strip()
    assert built.startswith(b"sha256:")
    assert daemon.cli("run", "--rm", "e2e/stdin").stdout == "alpha\nbeta\n"
    missing = context.parent / "nowhere" / "Dockerfile"  # outside the context: read while the tar streams
    failed = daemon.cli("build", "-t", "e2e/never", "-f", str(missing), str(context), check=False)
    assert failed.returncode != 0 and f"open {missing}: no such file or directory" in failed.stderr
    assert daemon.cli("image", "inspect", "e2e/never", check=False).returncode != 0


def test_docker_cli_target_file_and_labels(daemon, context):
    (context / "other.Dockerfile").write_text("FROM busybox AS first\nRUN echo first > /f\nFROM first AS second\n")
    result = docker_build(
        daemon,
        "-f",
        str(context / "other.Dockerfile"),
        "--target",
        "first",
        "--label",
        "team=build",
        "-t",
        "e2e/t",
        str(context),
    )
    assert "Step 3/3 : LABEL" in result.stdout and "FROM first AS second" not in result.stdout
    config = daemon.inspect("e2e/t")["Config"]
    assert config["Labels"] == {"team": "build"}
    assert daemon.docker("run", "--rm", "e2e/t", "cat", "/f").stdout == "first\n"


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    from tests.distribution.conftest import start_registry

    handle = start_registry(tmp_path_factory.mktemp("registry"))
    yield handle
    handle.stop()


def test_from_pulls_a_missing_base_and_the_lesson_shape_runs(daemon, registry, tmp_path):
    """FROM an image only a registry has (pulled by the build), then the lesson's steps:
    COPY . /app, WORKDIR /app, RUN an install step, ENTRYPOINT the app."""
    base = f"{registry.address}/e2e/base:v1"
    daemon.docker("tag", "busybox:latest", base)
    daemon.docker("push", base)
    daemon.docker("rmi", base)
    (tmp_path / "Dockerfile").write_text(
        f'FROM {base}\nCOPY . /app\nWORKDIR /app\nRUN sh install.sh\nENTRYPOINT ["sh", "app.sh"]\n'
    )
    (tmp_path / "install.sh").write_text("echo installed > /app/installed.txt\n")
    (tmp_path / "app.sh").write_text('echo "app running: $(cat installed.txt)"\n')
    built = docker_build(daemon, "-t", "e2e/lesson", str(tmp_path))
    print(built.stdout)
    assert "Pulling from e2e/base" in built.stdout or "Pull complete" in built.stdout or "Digest:" in built.stdout
    assert daemon.docker("run", "--rm", "e2e/lesson").stdout == "app running: installed\n"


def test_a_build_whose_client_leaves_stops_and_leaves_no_container(daemon):
    import io
    import socket
    import tarfile
    import time

    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        data = b"FROM busybox\nRUN echo started && sleep 60\n"
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    body = out.getvalue()
    before = set(daemon.cli("ps", "-aq").stdout.split())  # a failed build's kept container, say
    with socket.socket(socket.AF_UNIX) as client:
        client.connect(str(daemon.socket))
        head = b"POST /v1.41/build?t=e2e/left HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-tar\r\n"
        client.sendall(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        received = b""
        while b"started\n" not in received.replace(b"\\n", b"\n"):  # the container's output, not the step line
            received += client.recv(4096)
        running = time.monotonic() + 10
        while not set(daemon.cli("ps", "-q").stdout.split()) - before and time.monotonic() < running:
            time.sleep(0.1)
        assert set(daemon.cli("ps", "-q").stdout.split()) - before  # the RUN step's container runs
    deadline = time.monotonic() + 15
    while set(daemon.cli("ps", "-aq").stdout.split()) != before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert set(daemon.cli("ps", "-aq").stdout.split()) == before
    assert daemon.cli("image", "inspect", "e2e/left", check=False).returncode != 0


def test_intermediate_images_are_listed_only_with_all(daemon, tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM busybox\nENV STEP=1\nENV STEP=2\n")
    built = docker_build(daemon, "-t", "e2e/layers", str(tmp_path))
    ids = [line.split()[-1] for line in built.stdout.splitlines() if line.startswith(" ---> ") and "cache" not in line]
    shown = daemon.docker("images", "-q", "--no-trunc").stdout
    everything = daemon.docker("images", "-aq", "--no-trunc").stdout
    intermediate = ids[1]  # ENV STEP=1's image, the parent of the final one
    assert intermediate not in "".join(i[7:19] for i in shown.split())
    assert intermediate in "".join(i[7:19] for i in everything.split())


def _rmi_story(engine, busybox_tar, context) -> list:
    """rmi and image prune over a classic build's chain of images, as dockerd answers them:
    each step's (exit code, the lines naming the chain's images by role, errors), and which
    of the chain are left. Layer lines (dockerd's `Deleted: <chain ID>`) are left out."""
    label = uuid.uuid4().hex[:8]
    base, tag = f"story-base-{label}", f"story-{label}"
    (context / "Dockerfile").write_text(f'FROM {base}\nLABEL story={label}\nRUN echo a > /a\nCMD ["true"]\n')
    engine.docker("import", str(busybox_tar), base)
    docker_build(engine, "--network", "none", "-t", tag, str(context))
    chain = [line for line in engine.docker("history", "-q", "--no-trunc", tag).stdout.split() if line != "<missing>"]
    roles = dict(zip(chain, ["top", "run", "label", "base"], strict=True))

    def named(text: str) -> list[str]:
        for image_id, role in roles.items():
            text = text.replace(image_id, role).replace(image_id[7:19], role)
        text = text.replace(label, "*")
        return [line for line in text.splitlines() if any(r in line for r in [*roles.values(), "*", "rror"])]

    def step(*args: str) -> tuple:
        result = engine.docker(*args, check=False)
        return (args[0], result.returncode, named(result.stdout + result.stderr))

    def left() -> list[str]:
        present = set(engine.docker("images", "-aq", "--no-trunc").stdout.split())
        return [role for image_id, role in roles.items() if image_id in present]

    story = [
        step("rmi", chain[2][7:19]),  # others were built on it: refused, even forced
        step("rmi", "-f", chain[1][7:19]),
        step("rmi", base),  # its last name: untagged only
        left(),
        step("images", "-aq", "--no-trunc", "--filter", "dangling=true"),  # heads only: none of the chain
        step("image", "inspect", "--format", "{{.Parent}}", tag),
        step("image", "prune", "-f", "--filter", f"label=story={label}"),  # nameless parents stay
        step("rmi", "--no-prune", tag),
        left(),
        step("image", "prune", "-f", "--filter", f"label=story={label}"),  # now the top: the chain goes
        left(),
    ]
    engine.docker("rmi", "-f", tag, base, check=False)
    return story


def test_rmi_and_prune_over_a_build_chain_answer_as_dockerd(daemon, reference, busybox_tar, context):
    ours = _rmi_story(daemon, busybox_tar, context)
    assert ours == _rmi_story(reference, busybox_tar, context)
    assert ours[3] == ["top", "run", "label", "base"] and ours[-1] == []  # the story did what it says
    assert ours[5] == ("image", 0, ["run"])

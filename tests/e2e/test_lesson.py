"""The lesson (README "The lesson"), literally, with the dockyard CLI and the real docker CLI.

scripts/lesson.sh prepares everything from scratch (the debootstrap is cached under
/var/cache/dockyard-lesson per day): a daemon in its own network namespace, NATed out, pulls
from the local registry as its Docker Hub mirror. Slow: see the README for its time.
"""

from __future__ import annotations

import os
import re
import subprocess
import time

import pytest

from tests.e2e.daemon import DOCKER
from tests.e2e.lesson_world import PASSWORD, REPO, LessonWorld

pytestmark = [pytest.mark.root, pytest.mark.timeout(1800)]

CLEAN_SHUTDOWN = "database system is shut down"


@pytest.fixture(scope="module")
def world():
    """The prepared lesson, and a daemon that has never seen its images, so `pull` is real."""
    lesson = LessonWorld()
    try:
        lesson.start()
        lesson.prepare()
        lesson.fresh_daemon()
        yield lesson
    finally:
        lesson.stop()


@pytest.mark.parametrize("client", ["dockyard", "docker"])
def test_the_exercise(world, client):
    run = world.daemon.client
    volumes_before = set(world.daemon.cli("volume", "ls", "-q").stdout.split())
    assert "Status: Downloaded newer image for postgres:latest" in run(client, "pull", "postgres:latest").stdout
    started = run(client, "run", "--name", "psql", "-e", f"POSTGRES_PASSWORD={PASSWORD}",
                  "-p", "5432:5432", "-d", "postgres:latest").stdout.strip()  # fmt: skip
    assert re.fullmatch(r"[0-9a-f]{64}", started)
    try:
        world.psql_when_ready("CREATE TABLE lesson (id int, word text)")
        assert world.psql("INSERT INTO lesson VALUES (1, 'containers')")[0] == 0
        assert world.psql("SELECT word FROM lesson WHERE id = 1") == (0, "containers\n")
        assert world.psql("SELECT 1", password="wrong")[0] != 0  # md5/scram, not trust

        row = next(line for line in run(client, "ps").stdout.splitlines() if line.endswith(" psql"))
        assert "0.0.0.0:5432->5432/tcp" in row
        container_id = row.split()[0]
        began = time.monotonic()
        assert run(client, "stop", container_id).stdout.strip() == container_id
        assert time.monotonic() - began < 10  # SIGINT: a fast shutdown, no SIGKILL after the timeout
        assert CLEAN_SHUTDOWN in run(client, "logs", container_id).stderr
        assert world.daemon.inspect("psql")["State"]["ExitCode"] == 0

        run(client, "start", container_id)
        assert world.psql_when_ready("SELECT word FROM lesson WHERE id = 1") == "containers"
        run(client, "stop", container_id)
        new_volumes = set(world.daemon.cli("volume", "ls", "-q").stdout.split()) - volumes_before
        assert len(new_volumes) == 1  # VOLUME /var/lib/postgresql/data
        run(client, "rm", "-v", container_id)
        assert set(world.daemon.cli("volume", "ls", "-q").stdout.split()) == volumes_before
    finally:
        run("dockyard", "rm", "-fv", "psql", check=False)
        run("dockyard", "rmi", "postgres:latest", check=False)


def test_postgres_refuses_to_start_without_a_password(world):
    run = world.daemon.cli
    run("run", "--name", "nopass", "postgres:latest", check=False)
    try:
        assert world.daemon.inspect("nopass")["State"]["ExitCode"] == 1
        assert "superuser password is not specified" in run("logs", "nopass").stderr
    finally:
        run("rm", "-v", "nopass", check=False)


@pytest.mark.parametrize("client", ["dockyard", "docker"])
def test_the_flask_example(world, client):
    run = world.daemon.client
    context = str(REPO / "lesson" / "flask")
    if client == "docker":
        build = docker_build(world, "-t", "flask-example", context)
    else:
        build = world.daemon.cli("build", "-t", "flask-example", context, check=False, timeout=600)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    run(client, "run", "--name", "flask", "-p", "8000:5000", "-d", "flask-example")
    try:
        assert world.http_get_when_ready("http://127.0.0.1:8000/") == "Hello from a container!\n"
        began = time.monotonic()
        run(client, "stop", "flask")
        assert time.monotonic() - began < 10  # app.py exits on SIGTERM
    finally:
        run("dockyard", "rm", "-f", "flask", check=False)
        run("dockyard", "rmi", "flask-example", check=False)


def docker_build(world: LessonWorld, *args: str) -> subprocess.CompletedProcess:
    """`docker build` with the classic builder (DOCKER_BUILDKIT=0), the one dockyard serves."""
    daemon = world.daemon
    env = {**os.environ, "DOCKER_HOST": daemon.host, "DOCKER_CONFIG": str(daemon.base / "docker-config")}
    return subprocess.run(
        [DOCKER, "build", *args], capture_output=True, text=True, env={**env, "DOCKER_BUILDKIT": "0"}, timeout=600
    )

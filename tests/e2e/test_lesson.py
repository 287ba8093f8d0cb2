"""The lesson (README "The lesson"), literally, with the dockyard CLI and the real docker CLI.

scripts/lesson.sh prepares everything from scratch (the debootstrap is cached under
/var/cache/dockyard-lesson per day): a daemon in its own network namespace, NATed out, pulls
from the local registry as its Docker Hub mirror. Slow: about N minutes cold (see README).
"""

from __future__ import annotations

import os
import re
import subprocess
import time

import pytest

from tests.e2e.daemon import DOCKER
from tests.e2e.lesson_world import LESSON_IMAGES, REPO, LessonWorld

pytestmark = [pytest.mark.root, pytest.mark.timeout(1800)]

PASSWORD = "password!"
CLEAN_SHUTDOWN = "database system is shut down"


@pytest.fixture(scope="module")
def world():
    """The prepared lesson, with the images lesson.sh built removed so `pull` is real."""
    lesson = LessonWorld()
    try:
        lesson.start()
        lesson.prepare()
        lesson.daemon.cli("rmi", *LESSON_IMAGES)
        yield lesson
    finally:
        lesson.stop()


def psql(world: LessonWorld, sql: str, password: str = PASSWORD) -> tuple[int, str]:
    """The lesson's `psql -h 0.0.0.0 -p 5432 -U postgres` from the daemon's host, one command."""
    result = world.in_ns(
        "env", f"PGPASSWORD={password}", "psql", "-h", "0.0.0.0", "-p", "5432", "-U", "postgres",
        "-v", "ON_ERROR_STOP=1", "-tA", "-c", sql, timeout=30,
    )  # fmt: skip
    return result.returncode, result.stdout + result.stderr


def psql_when_ready(world: LessonWorld, sql: str, within: float = 60) -> str:
    deadline = time.monotonic() + within
    while True:
        code, out = psql(world, sql)
        if code == 0:
            return out.strip()
        if time.monotonic() > deadline:
            raise AssertionError(f"psql never succeeded: {out}")
        time.sleep(0.2)


@pytest.mark.parametrize("client", ["dockyard", "docker"])
def test_the_exercise(world, client):
    run = world.daemon.client
    volumes_before = set(run("volume", "ls", "-q").stdout.split())
    assert "Status: Downloaded newer image for postgres:latest" in run(client, "pull", "postgres:latest").stdout
    started = run(client, "run", "--name", "psql", "-e", f"POSTGRES_PASSWORD={PASSWORD}",
                  "-p", "5432:5432", "-d", "postgres:latest").stdout.strip()  # fmt: skip
    assert re.fullmatch(r"[0-9a-f]{64}", started)
    try:
        psql_when_ready(world, "CREATE TABLE lesson (id int, word text)")
        assert psql(world, "INSERT INTO lesson VALUES (1, 'containers')")[0] == 0
        assert psql(world, "SELECT word FROM lesson WHERE id = 1") == (0, "containers\n")
        assert psql(world, "SELECT 1", password="wrong")[0] != 0  # md5/scram, not trust

        row = next(line for line in run(client, "ps").stdout.splitlines() if line.endswith(" psql"))
        assert "0.0.0.0:5432->5432/tcp" in row
        container_id = row.split()[0]
        began = time.monotonic()
        assert run(client, "stop", container_id).stdout.strip() == container_id
        assert time.monotonic() - began < 10  # SIGINT: a fast shutdown, no SIGKILL after the timeout
        assert CLEAN_SHUTDOWN in run(client, "logs", container_id).stderr
        assert world.daemon.inspect("psql")["State"]["ExitCode"] == 0

        run(client, "start", container_id)
        assert psql_when_ready(world, "SELECT word FROM lesson WHERE id = 1") == "containers"
        run(client, "stop", container_id)
        new_volumes = set(run("volume", "ls", "-q").stdout.split()) - volumes_before
        assert len(new_volumes) == 1  # VOLUME /var/lib/postgresql/data
        run(client, "rm", "-v", container_id)
        assert set(run("volume", "ls", "-q").stdout.split()) == volumes_before
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
        assert http_get_when_ready(world, "http://127.0.0.1:8000/") == "Hello from a container!\n"
        run(client, "stop", "flask")
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


def http_get_when_ready(world: LessonWorld, url: str, within: float = 30) -> str:
    code = f"import urllib.request; print(urllib.request.urlopen({url!r}, timeout=3).read().decode(), end='')"
    deadline = time.monotonic() + within
    while True:
        result = world.in_ns("python3", "-c", code, timeout=20)
        if result.returncode == 0 or time.monotonic() > deadline:
            return result.stdout
        time.sleep(0.2)

"""Benchmark: the lesson's exercise, step by step, dockyard vs the reference dockerd.

    python bench/lesson.py            # prints one line per step and engine, and the totals

Prepares the lesson with scripts/lesson.sh in a network namespace NATed out
(tests/e2e/lesson_world.py; the debootstrap tarball is cached), then runs the exercise with
the docker CLI against dockyard and, when Debian's dockerd is installed, against dockerd in
the same namespace with the same local registry as its Docker Hub mirror (--registry-mirror):
the same client, the same images, the same registry. Both start cold (no lesson image local).
dockyard goes first: dockerd sets the namespace's FORWARD policy to DROP when it starts.
Every process, namespace and rule this makes is removed at the end.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from tests.e2e.lesson_world import MIRROR, PASSWORD, LessonWorld  # noqa: E402
from tests.e2e.reference import ReferenceDockerd  # noqa: E402

FLASK = str(REPO / "lesson" / "flask")
RUN_PSQL = ["run", "--name", "psql", "-e", f"POSTGRES_PASSWORD={PASSWORD}", "-p", "5432:5432", "-d", "postgres:latest"]


class Clock:
    """Named step durations, in order."""

    def __init__(self) -> None:
        self.steps: dict[str, float] = {}

    def time(self, name: str, action: Callable[[], object]) -> object:
        began = time.monotonic()
        result = action()
        self.steps[name] = time.monotonic() - began
        return result


def exercise(world: LessonWorld, docker: Callable) -> dict[str, float]:
    """The exercise, then the Flask example, with `docker` (a CLI runner) on one engine."""
    clock = Clock()
    clock.time("pull postgres:latest", lambda: docker("pull", "postgres:latest"))
    clock.time("run -d postgres", lambda: docker(*RUN_PSQL))
    clock.time("first psql query", lambda: world.psql_when_ready("CREATE TABLE lesson (id int, word text)"))
    world.psql("INSERT INTO lesson VALUES (1, 'containers')")
    rows = clock.time("ps", lambda: docker("ps").stdout.splitlines())
    container_id = next(row.split()[0] for row in rows if row.endswith(" psql"))
    clock.time("stop", lambda: docker("stop", container_id))
    clock.time("start + first query", lambda: (docker("start", container_id), world.psql_when_ready("SELECT 1")))
    clock.time("stop + rm -v", lambda: (docker("stop", container_id), docker("rm", "-v", container_id)))
    clock.time("build flask (cold)", lambda: docker("build", "-t", "flask-example", FLASK, timeout=900))
    clock.time("run -d flask", lambda: docker("run", "--name", "flask", "-p", "8000:5000", "-d", "flask-example"))
    clock.time("first HTTP answer", lambda: world.http_get_when_ready("http://127.0.0.1:8000/"))
    clock.time("stop flask", lambda: docker("stop", "flask"))
    docker("rm", "flask")
    steps = clock.steps
    steps["exercise: pull .. stop"] = sum(
        steps[k] for k in ("pull postgres:latest", "run -d postgres", "first psql query", "ps", "stop")
    )
    return steps


def main() -> None:
    os.environ["DOCKER_BUILDKIT"] = "0"  # the classic builder, which dockyard serves
    world = LessonWorld()
    reference = None
    results: dict[str, dict[str, float]] = {}
    try:
        world.start()
        prepared = world.prepare()
        print(f"scripts/lesson.sh: {prepared:.1f} s", flush=True)
        world.fresh_daemon()
        results["dockyard"] = exercise(world, world.daemon.docker)
        if shutil.which("dockerd"):
            options = ("--registry-mirror", MIRROR, "--bip", "172.31.250.1/24")
            reference = ReferenceDockerd(netns=world.netns.name, options=options).start()
            results["dockerd"] = exercise(world, reference.docker)
    finally:
        if reference:
            reference.docker("rm", "-f", "psql", "flask", check=False)
            reference.stop()
        world.stop()
    engines = list(results)
    print(f"{'step':28}" + "".join(f"{e:>12}" for e in engines))
    for step in results["dockyard"]:
        print(f"{step:28}" + "".join(f"{results[e][step]:>11.2f}s" for e in engines))


if __name__ == "__main__":
    main()

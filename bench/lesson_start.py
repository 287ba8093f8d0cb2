"""Benchmark: the lesson's `run -d postgres` -> first successful `psql` query, many rounds.

    python bench/lesson_start.py [--rounds 7] [--poll 0.1]

bench/lesson.py times this step once per engine inside the whole exercise; this one repeats
it, interleaved, so medians mean something. The postgres image comes from scripts/lesson.sh
(through tests/e2e/lesson_world.py, minutes the first time) and is kept as a `save` tarball
in $LESSON_CACHE (default /var/cache/dockyard-lesson), then `load`ed into a dockyard daemon
and the reference dockerd, each in a network namespace of its own (their bridges, NAT and
the published 5432 stay there). Each round, per engine: `docker run --name psql -e
POSTGRES_PASSWORD=... -p 5432:5432 -d postgres:latest` through the docker CLI, then `psql -h
0.0.0.0 -p 5432 -U postgres` in that namespace every `--poll` seconds (bench/lesson.py's
0.1 s) until a query succeeds, then `rm -f -v`. Prints per engine the median, min and max of
`run -d` and of run -d -> first query, and the ratio of medians. Everything it started is
stopped and deleted on the way out.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from tests.e2e.daemon import Daemon  # noqa: E402
from tests.e2e.lesson_world import PASSWORD, LessonWorld  # noqa: E402
from tests.e2e.reference import ReferenceDockerd  # noqa: E402
from tests.network.harness import Namespaces, sh  # noqa: E402

CACHE = Path(os.environ.get("LESSON_CACHE", "/var/cache/dockyard-lesson"))
IMAGE_TAR = CACHE / "postgres-latest.tar"
RUN_PSQL = ["run", "--name", "psql", "-e", f"POSTGRES_PASSWORD={PASSWORD}", "-p", "5432:5432", "-d", "postgres:latest"]


def postgres_tarball() -> Path:
    """The lesson's postgres image as a `save` archive, built by scripts/lesson.sh once."""
    if IMAGE_TAR.exists():
        return IMAGE_TAR
    world = LessonWorld()
    try:
        world.start()
        print(f"scripts/lesson.sh: {world.prepare():.0f} s", flush=True)
        world.daemon.cli("save", "-o", f"{IMAGE_TAR}.part", "postgres:latest", timeout=600)
        os.replace(f"{IMAGE_TAR}.part", IMAGE_TAR)
    finally:
        world.stop()
    return IMAGE_TAR


def first_query(ns: str, poll: float, within: float = 60) -> float:
    """Seconds until `psql -h 0.0.0.0` in `ns` first succeeds (lesson_world.psql_when_ready's loop)."""
    began = time.monotonic()
    env = ["env", f"PGPASSWORD={PASSWORD}"]
    while True:
        psql = ["psql", "-h", "0.0.0.0", "-p", "5432", "-U", "postgres", "-tA", "-c", "SELECT 1"]
        if sh(*env, *psql, ns=ns, check=False, timeout=30).returncode == 0:
            return time.monotonic() - began
        if time.monotonic() - began > within:
            raise RuntimeError("psql never succeeded")
        time.sleep(poll)


def one_round(docker, ns: str, poll: float) -> tuple[float, float]:
    """(run -d seconds, run -d -> first query seconds) for one engine."""
    began = time.monotonic()
    docker(*RUN_PSQL)
    ran = time.monotonic() - began
    total = ran + first_query(ns, poll)
    docker("rm", "-f", "-v", "psql")
    return ran, total


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):6.3f} s  [{min(values):.3f} .. {max(values):.3f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--poll", type=float, default=0.1)
    parser.add_argument("--no-dockerd", action="store_true")
    args = parser.parse_args()
    tarball = postgres_tarball()
    spaces = Namespaces(secrets.token_hex(3))
    engines: dict[str, tuple] = {}
    dockyard = reference = None
    try:
        dy_ns = spaces.add("dy")
        dockyard = Daemon(netns=dy_ns, config={}).start()
        dockyard.cli("load", "-i", str(tarball), timeout=600)
        engines["dockyard"] = (dockyard.docker, dy_ns)
        if shutil.which("dockerd") and not args.no_dockerd:
            dk_ns = spaces.add("dk")
            reference = ReferenceDockerd(netns=dk_ns, options=("--bip", "172.31.250.1/24")).start()
            reference.docker("load", "-i", str(tarball), timeout=600)
            engines["dockerd"] = (reference.docker, dk_ns)
        samples = {name: ([], []) for name in engines}
        for round_ in range(args.rounds + 1):  # round 0 warms up, untimed
            for name, (docker, ns) in engines.items():
                ran, total = one_round(docker, ns, args.poll)
                if round_:
                    samples[name][0].append(ran)
                    samples[name][1].append(total)
                print(f"round {round_} {name:9} run -d {ran:.3f} s, first query at {total:.3f} s", flush=True)
        for name, (ran, total) in samples.items():
            print(f"{name:9} run -d {summary(ran)}   run -d -> first query {summary(total)}")
        if "dockerd" in samples:
            ratio = statistics.median(samples["dockyard"][1]) / statistics.median(samples["dockerd"][1])
            print(f"run -d -> first query, dockyard / dockerd: {ratio:.2f}x")
    finally:
        if reference:
            reference.docker("rm", "-f", "-v", "psql", check=False)
            reference.stop()
        if dockyard:
            dockyard.cleanup()
        spaces.delete_all()


if __name__ == "__main__":
    main()

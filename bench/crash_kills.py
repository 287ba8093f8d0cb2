"""Bench: SIGKILL the daemon at random moments of pulls and loads, many times; check every restart.

    sudo python bench/crash_kills.py                 # 100 kills
    sudo python bench/crash_kills.py --kills 500 --seed 3

A scratch daemon (no network namespace) pulls from Debian's docker-registry, or loads a saved
archive, an image of busybox plus a random 6 MiB layer; a SIGKILL lands after a random delay.
After each restart tests/e2e/invariants.py must find nothing wrong. The suite's
tests/e2e/test_crash.py does the named fault points; this covers the moments between them.
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.distribution.conftest import start_registry  # noqa: E402
from tests.e2e.daemon import DOCKYARD, Daemon  # noqa: E402
from tests.e2e.invariants import assert_sound  # noqa: E402


def prepare(daemon: Daemon, registry_address: str, workdir: Path) -> tuple[str, Path]:
    daemon.import_busybox()
    daemon.cli("run", "--name", "maker", "busybox", "sh", "-c", "head -c 6291456 /dev/urandom > /blob")
    daemon.cli("commit", "maker", "bench/img:v1")
    daemon.cli("rm", "maker")
    name = f"{registry_address}/bench/img:v1"
    daemon.cli("tag", "bench/img:v1", name)
    daemon.cli("push", name)
    archive = workdir / "img.tar"
    daemon.cli("save", "-o", str(archive), "bench/img:v1")
    daemon.cli("rmi", "bench/img:v1", name)
    return name, archive


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="dockyard-crash-bench-", dir="/var/tmp"))
    registry = start_registry(workdir / "registry")
    daemon = Daemon().start()
    try:
        name, archive = prepare(daemon, registry.address, workdir)
        started = time.monotonic()
        for kill in range(args.kills):
            verb = rng.choice(["pull", "load"])
            command = ["pull", name] if verb == "pull" else ["load", "-i", str(archive)]
            daemon.cli("rmi", name if verb == "pull" else "bench/img:v1", check=False)
            client = subprocess.Popen([DOCKYARD, "-H", daemon.host, *command], stdout=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.02, 1.2))
            daemon.kill(signal.SIGKILL)
            client.wait(timeout=60)
            daemon.start()
            try:
                assert_sound(daemon)
            except AssertionError as exc:
                print(f"kill {kill + 1} ({verb}): {exc}")
                return 1
            if (kill + 1) % 10 == 0:
                print(f"{kill + 1} kills sound, {(time.monotonic() - started) / (kill + 1):.2f} s each", flush=True)
        print(f"{args.kills} kills: every restart sound")
        return 0
    finally:
        if daemon.process is not None and daemon.process.poll() is not None:
            daemon.start()
        daemon.cleanup()
        registry.stop()
        subprocess.run(["rm", "-rf", str(workdir)], check=False)


if __name__ == "__main__":
    sys.exit(main())

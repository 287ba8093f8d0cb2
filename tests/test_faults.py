"""The fault-injection hook: off unless DOCKYARD_FAULTS arms a point, then a SIGKILL there."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from dockyard import faults


def test_parse_names_points_and_arrivals():
    assert faults._parse("") == {}
    assert faults._parse("a.b, c.d@3,e@0,f@x") == {"a.b": 1, "c.d": 3, "e": 1, "f": 1}


def test_unarmed_points_do_nothing():
    faults.point("pull.after-layer")  # this test process has no DOCKYARD_FAULTS


def run(env: str, script: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, faults.ENVIRONMENT: env}
    return subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True, text=True)


def test_an_armed_point_kills_the_process_on_the_arrival_it_names():
    script = "from dockyard import faults\nfor n in range(5):\n    print(n, flush=True)\n    faults.point('x.y')\n"
    first = run("x.y", script)
    assert first.returncode == -signal.SIGKILL and first.stdout.split() == ["0"]
    third = run("other,x.y@3", script)
    assert third.returncode == -signal.SIGKILL and third.stdout.split() == ["0", "1", "2"]
    assert run("other", script).returncode == 0


def test_every_point_in_the_code_is_listed():
    source = os.path.join(os.path.dirname(faults.__file__))
    found = subprocess.run(
        ["grep", "-rhoE", r"faults\.point\(\"[a-z.-]+\"\)", source], capture_output=True, text=True
    ).stdout.split()
    named = {entry.split('"')[1] for entry in found}
    assert named == set(faults.POINTS)

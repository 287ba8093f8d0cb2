"""`docker run -d` with nothing between create and start (no network to wire here, no
attacher, no terminal) takes the runtime's one-step run(): the same outcomes as dockerd's,
side by side, for a process that starts and one whose executable is missing."""

from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="module")
def both(daemon, reference, busybox_tar):
    reference.docker("import", str(busybox_tar), "busybox:latest")
    return daemon, reference


def _state(engine, name: str) -> dict:
    return json.loads(engine.docker("inspect", "--format", "{{json .State}}", name).stdout)


def test_a_detached_run_is_running_with_its_start_time_on_both(both):
    for engine in both:
        engine.docker("run", "-d", "--name", "once", "busybox", "sh", "-c", "echo up; exec sleep 1000")
        state = _state(engine, "once")
        assert (state["Status"], state["Running"], state["ExitCode"]) == ("running", True, 0)
        assert state["Pid"] > 0 and state["StartedAt"] > "2000"
        assert engine.docker("ps", "-q", "--filter", "name=once").stdout.strip()
        assert engine.docker("logs", "once").stdout == "up\n"
        engine.docker("rm", "-f", "once")


def test_a_detached_run_of_a_missing_executable_fails_as_on_dockerd(both):
    results = {}
    for engine in both:
        failed = engine.docker("run", "-d", "--name", "missing", "busybox", "nosuchcommand", check=False)
        state = _state(engine, "missing")
        results[engine] = (failed.returncode, state["Status"], state["ExitCode"], state["Running"])
        assert 'exec: "nosuchcommand": executable file not found in $PATH' in failed.stderr
        assert 'exec: "nosuchcommand": executable file not found in $PATH' in state["Error"]
        engine.docker("rm", "-f", "missing")
    ours, theirs = results.values()
    assert ours == theirs == (127, "created", 127, False)

"""`--runtime runc` and `--runtime crun` on a real daemon: the same OCI spec runs under Debian's
runc (installed with docker.io) and crun (setup.sh), with Docker's seccomp profile and capabilities, and dockyard keeps managing the
container (logs, exec, pause, stop, a daemon restart); daemon.json `runtimes` adds one by name;
an unknown runtime or a terminal under runc is refused and starts nothing."""

from __future__ import annotations

import os
import shutil
import signal

import pytest

from tests.e2e.daemon import restartable_daemon

pytestmark = pytest.mark.root

RUNC = shutil.which("runc")
HYBRID = os.path.isdir("/sys/fs/cgroup/unified")  # v1 controllers with a v2 hierarchy beside them


@pytest.fixture
def own_daemon():
    """A daemon of this test's own (it is restarted), with a second name for runc."""
    if RUNC is None or shutil.which("crun") is None:
        pytest.fail("runc and crun must be installed (scripts/setup.sh and docker.io bring them)")
    with restartable_daemon({"runtimes": {"runc-debug": {"path": RUNC, "runtimeArgs": ["--debug"]}}}) as instance:
        yield instance


@pytest.mark.parametrize("runtime", ["runc", "crun"])
def test_the_same_spec_runs_under_runc_and_crun(own_daemon, runtime):
    d = own_daemon
    probe = 'grep -E "^(Seccomp|CapEff):" /proc/self/status; echo out; echo err >&2; exit 3'
    ran = d.docker("run", "--runtime", runtime, "busybox", "sh", "-c", probe, check=False)
    if runtime == "crun" and HYBRID:  # crun refuses cgroup v1 controllers beside v2: its reason reaches the user
        assert ran.returncode == 125 and "hybrid mode not supported" in ran.stderr, ran.stderr
        assert d.cli("ps", "-aq", "--filter", "status=running").stdout.strip() == ""
        return
    assert ran.returncode == 3 and "out" in ran.stdout and "err" in ran.stderr
    assert "Seccomp:\t2" in ran.stdout  # Docker's profile, applied by runc from the spec
    own = d.docker("run", "--rm", "busybox", "grep", "^CapEff:", "/proc/self/status").stdout
    assert own.strip() in ran.stdout  # the same capabilities as under dockyard's own runtime
    running = d.docker("run", "-d", "--runtime", runtime, "busybox", "sleep", "60").stdout.strip()
    assert (
        "Seccomp:\t2" in d.docker("exec", running, "grep", "^Seccomp:", "/proc/self/status").stdout
    )  # the spec's profile


def test_runc_runs_the_same_spec_and_dockyard_keeps_managing_it(own_daemon):
    d = own_daemon
    d.cli(
        "run",
        "-d",
        "--name",
        "svc",
        "--runtime",
        "runc-debug",
        "busybox",
        "sh",
        "-c",
        "trap 'exit 7' TERM; while true; do sleep 0.1; done",
    )
    assert d.inspect("svc")["HostConfig"]["Runtime"] == "runc-debug"
    assert d.cli("exec", "svc", "cat", "/proc/1/cmdline").stdout.startswith("sh")
    d.cli("pause", "svc")
    assert d.inspect("svc")["State"]["Status"] == "paused"
    d.cli("unpause", "svc")
    d.kill(signal.SIGKILL)  # the daemon dies; the shim keeps the runc container
    d.start()
    assert d.inspect("svc")["State"]["Running"]
    d.cli("stop", "svc")
    assert (d.inspect("svc")["State"]["Status"], d.inspect("svc")["State"]["ExitCode"]) == ("exited", 7)
    info = d.sdk().info()
    assert {"dockyard", "runc", "crun", "runc-debug"} <= set(info["Runtimes"]) and info["DefaultRuntime"] == "dockyard"
    assert info["Runtimes"]["runc-debug"] == {"path": RUNC, "runtimeArgs": ["--debug"]}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--runtime", "nosuch"), "Unknown runtime specified nosuch"),
        (("-t", "--runtime", "runc"), "a terminal (-t) is not supported by dockyard with runtime runc"),
    ],
)
def test_what_cannot_run_is_refused_and_nothing_is_made(own_daemon, args, message):
    refused = own_daemon.docker("create", *args, "busybox", "true", check=False)
    assert refused.returncode != 0 and message in refused.stderr
    assert own_daemon.cli("ps", "-aq").stdout.strip() == ""

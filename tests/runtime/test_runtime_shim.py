"""Root tests of the shim as a process: outliving its creator, exec, cgroups, failures."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dockyard.errors import Conflict, RuntimeFailure
from dockyard.runtime.cgroups import hierarchy
from dockyard.runtime.runtime import IOConfig
from dockyard.runtime.spec import default_spec, process_spec
from tests.polling import eventually
from tests.runtime.busybox import collect, make_spec, run_task

pytestmark = pytest.mark.root
REPO = Path(__file__).resolve().parents[2]

CREATOR = """
import json, sys
from pathlib import Path
from dockyard.runtime.client import ShimRuntime
from dockyard.runtime.runtime import IOConfig
spec = json.loads(sys.argv[2])
print(ShimRuntime().create(Path(sys.argv[1]), spec, IOConfig()), flush=True)
import time; time.sleep(60)
"""


def test_shim_survives_the_death_of_its_creator(runtime, state_dir, rootfs):
    spec = make_spec(rootfs, ["sh", "-c", "sleep 0.2; exit 42"])
    creator = subprocess.Popen(
        [sys.executable, "-c", CREATOR, str(state_dir), json.dumps(spec)],
        stdout=subprocess.PIPE,
        env={"PYTHONPATH": str(REPO / "src")},
    )
    try:
        pid = int(creator.stdout.readline())
    finally:
        creator.kill()
        creator.wait()
        creator.stdout.close()
    state = runtime.state(state_dir)
    assert (state.status, state.pid) == ("created", pid)
    runtime.start(state_dir)
    assert runtime.wait(state_dir, timeout=10).exit_code == 42
    assert json.loads((state_dir / "exit.json").read_text())["exit_code"] == 42
    time.sleep(0.1)
    assert not (state_dir / "shim.sock").exists()  # the shim left once it was done
    assert runtime.state(state_dir).exit_code == 42  # and state still comes from exit.json


def test_exec_joins_the_running_container(runtime, state_dir, rootfs):
    runtime.create(state_dir, make_spec(rootfs, ["sleep", "100"]), IOConfig())
    runtime.start(state_dir)
    exec_dir = state_dir / "execs" / "e1"
    process = process_spec(
        ["sh", "-c", "hostname; echo $$; cat /proc/1/cmdline; echo; id -u"], env=["PATH=/bin"], uid=1000, gid=1000
    )
    exec_pid = runtime.create_exec(exec_dir, state_dir, process, IOConfig())
    assert exec_pid > 0
    sock = runtime.attach(exec_dir, False, True, True)
    runtime.start(exec_dir)
    out, err = collect(sock)
    assert runtime.wait(exec_dir, timeout=10).exit_code == 0, err
    hostname, pid, cmdline, uid = out.decode().split("\n", 3)
    assert hostname == "box" and int(pid) > 1
    assert cmdline.startswith("sleep\x00100") and uid.strip() == "1000"
    assert runtime.state(state_dir).status == "running"  # the exec's exit left the init alone


def test_exec_errors_and_stdin(runtime, state_dir, rootfs):
    runtime.create(state_dir, make_spec(rootfs, ["sleep", "100"]), IOConfig())
    runtime.start(state_dir)
    bad = state_dir / "execs" / "bad"
    runtime.create_exec(bad, state_dir, process_spec(["nosuch"], env=["PATH=/bin"]), IOConfig())
    with pytest.raises(RuntimeFailure, match='exec: "nosuch": executable file not found in \\$PATH'):
        runtime.start(bad)
    assert runtime.wait(bad, timeout=10).exit_code == 127
    cat = state_dir / "execs" / "cat"
    runtime.create_exec(
        cat, state_dir, process_spec(["cat"], env=["PATH=/bin"]), IOConfig(open_stdin=True, stdin_once=True)
    )
    sock = runtime.attach(cat, True, True, True)
    runtime.start(cat)
    sock.sendall(b"piped")
    sock.shutdown(socket.SHUT_WR)
    assert collect(sock) == (b"piped", b"")
    assert runtime.wait(cat, timeout=10).exit_code == 0


def test_an_exec_that_execve_refuses_starts_and_exits_1_with_the_reason_on_stderr(runtime, state_dir, rootfs):
    """As `docker exec` under dockerd (checked side by side): the program is found, so the
    exec starts; execve's error is the program's own."""
    (rootfs / "bad").write_bytes(b"hello")
    (rootfs / "bad").chmod(0o755)
    runtime.create(state_dir, make_spec(rootfs, ["sleep", "100"]), IOConfig())
    runtime.start(state_dir)
    bad = state_dir / "execs" / "bad"
    runtime.create_exec(bad, state_dir, process_spec(["/bad"], env=["PATH=/bin"]), IOConfig())
    sock = runtime.attach(bad, False, True, True)
    runtime.start(bad)
    assert collect(sock) == (b"", b"exec /bad: exec format error\n")
    assert runtime.wait(bad, timeout=10).exit_code == 1


def test_exec_into_stopped_container_conflicts(runtime, state_dir, rootfs):
    run_task(runtime, state_dir, make_spec(rootfs, ["true"]))
    with pytest.raises(Conflict, match="is not running"):
        runtime.create_exec(state_dir / "execs" / "x", state_dir, process_spec(["true"]), IOConfig())


def test_task_gets_its_own_cgroup_with_limits(runtime, state_dir, rootfs):
    spec = make_spec(rootfs, ["sh", "-c", "cat /proc/self/cgroup; sleep 100"])
    spec["linux"]["resources"] = {
        "pids": {"limit": 32},
        "memory": {"limit": 64 * 1024 * 1024},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000},
    }
    spec["linux"]["cgroupsPath"] = f"dockyard/test-{os.getpid()}-{state_dir.parent.name}"
    pid = runtime.create(state_dir, spec, IOConfig())
    sock = runtime.attach(state_dir, False, True, False)
    runtime.start(state_dir)
    base = "/sys/fs/cgroup"
    rel = spec["linux"]["cgroupsPath"]
    paths = hierarchy.paths_of(pid, hierarchy.discover())
    assert f"{base}/pids/{rel}" in paths and f"{base}/memory/{rel}" in paths
    assert Path(f"{base}/pids/{rel}/pids.max").read_text().strip() == "32"
    assert Path(f"{base}/memory/{rel}/memory.limit_in_bytes").read_text().strip() == str(64 << 20)
    assert Path(f"{base}/cpu/{rel}/cpu.shares").read_text().strip() == "512"
    assert Path(f"{base}/cpu/{rel}/cpu.cfs_quota_us").read_text().strip() == "50000"
    seen = b""
    while b"0::/\n" not in seen and (chunk := sock.recv(4096)):
        seen += chunk
    assert b"0::/\n" in seen and b"pids:/\n" in seen  # the cgroup namespace hides the path
    runtime.kill(state_dir, signal.SIGKILL)
    collect(sock)
    runtime.wait(state_dir, timeout=10)
    # removed once the task exited (just after its waiters were answered)
    eventually(lambda: not Path(f"{base}/pids/{rel}").exists())


def test_create_failure_is_reported_and_leaves_nothing(runtime, state_dir, rootfs):
    binds = [{"destination": "/data", "type": "bind", "source": "/no/such/dir", "options": ["rbind"]}]
    spec = default_spec(process_spec(["true"]), root=str(rootfs), mounts=binds)
    spec["linux"]["cgroupsPath"] = f"dockyard/fail-{os.getpid()}"
    with pytest.raises(RuntimeFailure, match="bind source path does not exist: /no/such/dir"):
        runtime.create(state_dir, spec, IOConfig())
    assert list(state_dir.iterdir()) == []
    assert not Path(f"/sys/fs/cgroup/pids/dockyard/fail-{os.getpid()}").exists()


def test_shim_is_ready_quickly(runtime, state_dir, rootfs):
    spec = make_spec(rootfs, ["true"])
    started = time.monotonic()
    runtime.create(state_dir, spec, IOConfig())
    elapsed = time.monotonic() - started
    runtime.start(state_dir)
    runtime.wait(state_dir, timeout=10)
    assert elapsed < 0.5  # loose bound for a loaded 2-core box; typical is 40-60 ms


def test_the_cgroup_mount_repeats_every_host_hierarchy_read_only(runtime, state_dir, rootfs):
    """The hierarchies come from the fork server's one discovery (shim.preload), not a fresh
    read of the mount table in each init: the container sees the same set, each read-only."""
    script = (
        "cd /sys/fs/cgroup && ls; grep ' /sys/fs/cgroup/' /proc/self/mountinfo | cut -d' ' -f6 | cut -c1-2 | sort -u"
    )
    code, out, _ = run_task(runtime, state_dir, make_spec(rootfs, ["sh", "-c", script]))
    names = out.decode().split()
    expected = sorted(os.path.basename(h.path) for h in hierarchy.discover())
    assert code == 0 and names == [*expected, "ro"]

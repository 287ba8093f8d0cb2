"""Resource limits biting on the real runtime (cgroup v1 controllers on this host): a memory
hog OOM-killed and reported, a fork bomb stopped at --pids-limit, --cpus 0.5 holding a busy
loop near half a core, `update -m` on a running container, rlimits, --init."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest

from dockyard.runtime.cgroups import hierarchy, limits
from tests.e2e.rawhttp import request

pytestmark = pytest.mark.root
MB = 1 << 20


def cgroup_file(container_id: str, controller: str, name: str, parent: str = "dockyard") -> str:
    hierarchies = hierarchy.discover()
    paths = [str(Path(h.path) / parent / container_id) for h in hierarchies]
    where = limits.controller_path(controller, hierarchies, paths)
    assert where is not None, f"no {controller} controller"
    return (Path(where[0]) / name).read_text().strip()


def test_a_memory_hog_is_oom_killed_and_reported(daemon, client):
    since = str(int(time.time()))
    daemon.client(client, "run", "--name", f"hog-{client}", "-m", "16m", "busybox", "tail", "/dev/zero", check=False)
    state = daemon.inspect(f"hog-{client}")["State"]
    assert (state["Status"], state["ExitCode"], state["OOMKilled"]) == ("exited", 137, True)
    events = daemon.cli(
        "events",
        "--since",
        since,
        "--until",
        str(int(time.time()) + 1),
        "--filter",
        f"container=hog-{client}",
        "--format",
        "{{.Action}}",
    ).stdout.split()
    assert events[-2:] == ["oom", "die"]
    daemon.cli("rm", f"hog-{client}")


def test_a_fork_bomb_stops_at_the_pids_limit(daemon):
    # the subshell forks until refused (ash then gives up on it); PID 1 execs, which needs no fork
    script = "(for i in $(seq 1 30); do sleep 60 & done); exec sleep 60"
    cid = daemon.cli("run", "-d", "--pids-limit", "10", "busybox", "sh", "-c", script).stdout.strip()
    try:
        time.sleep(2)
        assert cgroup_file(cid, "pids", "pids.max") == "10"
        assert 8 <= int(cgroup_file(cid, "pids", "pids.current")) <= 10
        assert "can't fork" in daemon.cli("logs", cid).stderr
        assert daemon.inspect(cid)["State"]["Running"]
    finally:
        daemon.cli("rm", "-f", cid)


def _cpu_ns(container_id: str) -> int:
    return int(cgroup_file(container_id, "cpuacct", "cpuacct.usage"))


def test_cpus_half_holds_a_busy_loop_near_half_a_core(daemon):
    cid = daemon.cli("run", "-d", "--cpus", "0.5", "busybox", "sh", "-c", "while :; do :; done").stdout.strip()
    try:
        time.sleep(0.5)
        before, start = _cpu_ns(cid), time.monotonic()
        time.sleep(2.0)
        used = (_cpu_ns(cid) - before) / ((time.monotonic() - start) * 1e9)
        # the quota caps it at half a core; a busy machine (2 cores, shared) may give it less
        assert 0.1 <= used <= 0.6, f"{used:.2f} of a core"
        assert cgroup_file(cid, "cpu", "cpu.cfs_quota_us") == "50000"
        stats = json.loads(daemon.docker("stats", "--no-stream", "--format", "{{json .}}", cid).stdout)
        assert 0 < float(stats["CPUPerc"].rstrip("%")) <= 80  # a 0.1 s sample: CFS periods are 0.1 s
    finally:
        daemon.cli("rm", "-f", cid)


@pytest.mark.parametrize("client", ["dockyard", "docker"])
def test_update_memory_of_a_running_container(daemon, client):
    cid = daemon.cli("run", "-d", "-m", "32m", "busybox", "sleep", "600").stdout.strip()
    try:
        assert int(cgroup_file(cid, "memory", "memory.limit_in_bytes")) == 32 * MB
        daemon.client(client, "update", "-m", "64m", "--memory-swap", "128m", "--pids-limit", "50", cid)
        assert int(cgroup_file(cid, "memory", "memory.limit_in_bytes")) == 64 * MB
        assert int(cgroup_file(cid, "memory", "memory.memsw.limit_in_bytes")) == 128 * MB
        assert cgroup_file(cid, "pids", "pids.max") == "50"
        host = daemon.inspect(cid)["HostConfig"]
        assert (host["Memory"], host["MemorySwap"], host["PidsLimit"]) == (64 * MB, 128 * MB, 50)
        usage = daemon.docker("stats", "--no-stream", "--format", "{{.MemUsage}}", cid).stdout
        assert usage.strip().endswith("/ 64MiB")
        sample = json.loads(request(daemon.host, "GET", f"/containers/{cid}/stats?stream=false")[2])
        assert (sample["memory_stats"]["limit"], sample["pids_stats"]) == (64 * MB, {"current": 1, "limit": 50})
        daemon.client(client, "update", "--restart", "always", cid)
        assert daemon.inspect(cid)["HostConfig"]["RestartPolicy"]["Name"] == "always"
    finally:
        daemon.cli("rm", "-f", cid)


def test_the_other_limits_reach_the_kernel(daemon):
    cid = daemon.cli(
        "run",
        "-d",
        "-m",
        "64m",
        "--memory-reservation",
        "32m",
        "--memory-swappiness",
        "10",
        "--oom-kill-disable",
        "--cpu-shares",
        "512",
        "--cpu-period",
        "50000",
        "--cpu-quota",
        "25000",
        "--cpuset-cpus",
        "0",
        "--cpuset-mems",
        "0",
        "--oom-score-adj",
        "300",
        "busybox",
        "sleep",
        "600",
    ).stdout.strip()
    try:
        assert int(cgroup_file(cid, "memory", "memory.soft_limit_in_bytes")) == 32 * MB
        assert cgroup_file(cid, "memory", "memory.swappiness") == "10"
        assert "oom_kill_disable 1" in cgroup_file(cid, "memory", "memory.oom_control")
        assert cgroup_file(cid, "cpu", "cpu.shares") == "512"
        assert (cgroup_file(cid, "cpu", "cpu.cfs_period_us"), cgroup_file(cid, "cpu", "cpu.cfs_quota_us")) == (
            "50000",
            "25000",
        )
        inside = daemon.cli(
            "exec", cid, "sh", "-c", "grep Cpus_allowed_list /proc/self/status; cat /proc/1/oom_score_adj"
        )
        assert inside.stdout.split() == ["Cpus_allowed_list:", "0", "300"]
    finally:
        daemon.cli("rm", "-f", cid)


def test_blkio_weight_on_this_kernel_is_dockerds_warning(daemon):
    result = daemon.docker("create", "--blkio-weight", "500", "busybox", "true")
    assert (
        "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded." in result.stderr
    )
    daemon.cli("rm", result.stdout.strip())


def test_ulimits_are_set_and_one_above_the_hosts_hard_limit_is_refused_clearly(daemon):
    out = daemon.cli(
        "run", "--rm", "--ulimit", "nofile=512:1024", "busybox", "sh", "-c", "ulimit -n; ulimit -Hn"
    ).stdout
    assert out.split() == ["512", "1024"]
    refused = daemon.docker("run", "--rm", "--ulimit", "nofile=1024:99999999", "busybox", "true", check=False)
    assert refused.returncode == 125
    assert "hard limit 99999999 is above this host's" in refused.stderr and "CAP_SYS_RESOURCE" in refused.stderr


def test_init_forwards_signals_and_reaps_orphans(daemon):
    cid = daemon.cli("run", "-d", "--init", "busybox", "sleep", "600").stdout.strip()
    try:
        top = daemon.cli("exec", cid, "ps", "-o", "pid,comm").stdout.split()
        assert top[2:4] == ["1", "docker-init"]
        daemon.cli("exec", cid, "sh", "-c", "(sleep 0.2 &) ; true")  # the sleep is orphaned to PID 1
        time.sleep(0.6)
        states = daemon.cli("exec", cid, "ps", "-o", "stat").stdout.split()[1:]
        assert not any(s.startswith("Z") for s in states), states
        began = time.monotonic()
        daemon.cli("stop", "-t", "10", cid)  # sleep as PID 1 would ignore SIGTERM; as init's child it dies
        assert time.monotonic() - began < 5
        assert daemon.inspect(cid)["State"]["ExitCode"] == 143
    finally:
        daemon.cli("rm", "-f", cid)


def test_cgroup_parent_and_blkio_throttles_reach_the_kernel(daemon):
    disk = next(f"/dev/{n}" for n in ("vda", "sda", "nvme0n1", "loop0") if os.path.exists(f"/dev/{n}"))
    numbers = f"{os.major(os.stat(disk).st_rdev)}:{os.minor(os.stat(disk).st_rdev)}"
    assert stat.S_ISBLK(os.stat(disk).st_mode)
    cid = daemon.docker(
        "run",
        "-d",
        "--cgroup-parent",
        "dockyard-e2e-parent",
        "--device-read-bps",
        f"{disk}:1mb",
        "--device-write-bps",
        f"{disk}:2mb",
        "--device-read-iops",
        f"{disk}:300",
        "--device-write-iops",
        f"{disk}:400",
        "busybox",
        "sleep",
        "600",
    ).stdout.strip()
    try:
        read = lambda name: cgroup_file(cid, "blkio", f"blkio.throttle.{name}", parent="dockyard-e2e-parent")  # noqa: E731
        assert read("read_bps_device") == f"{numbers} 1048576"
        assert read("write_bps_device") == f"{numbers} 2097152"
        assert (read("read_iops_device"), read("write_iops_device")) == (f"{numbers} 300", f"{numbers} 400")
        throttles = daemon.inspect(cid)["HostConfig"]["BlkioDeviceReadBps"]
        assert throttles == [{"Path": disk, "Rate": 1048576}]
    finally:
        daemon.cli("rm", "-f", cid)
        for h in hierarchy.discover():
            try:
                os.rmdir(Path(h.path) / "dockyard-e2e-parent")
            except OSError:
                pass

"""linux.resources written to cgroup files, v1 and v2, against directories under tmp_path
laid out as the kernel lays them out (youki's libcgroups tests do the same)."""

from __future__ import annotations

import errno
import os

import pytest

from dockyard.runtime.cgroups import hierarchy, limits, memory, sysinfo
from dockyard.runtime.cgroups.hierarchy import Hierarchy
from dockyard.runtime.cgroups.stats import read_usage

RESOURCES = {
    "memory": {
        "limit": 64 << 20,
        "reservation": 32 << 20,
        "swap": 128 << 20,
        "swappiness": 10,
        "disableOOMKiller": True,
    },
    "cpu": {"shares": 512, "period": 100000, "quota": 50000, "cpus": "0", "mems": "0"},
    "pids": {"limit": 20},
    "blockIO": {"weight": 300, "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}]},
}


def _tree(root, names: dict[str, tuple[str, ...]]) -> tuple[list[Hierarchy], list[str]]:
    hierarchies, paths = [], []
    for mount, controllers in names.items():
        path = root / mount / "dockyard" / "c1"
        path.mkdir(parents=True)
        hierarchies.append(Hierarchy(str(root / mount), 2 if mount == "unified" else 1, controllers))
        paths.append(str(path))
    return hierarchies, paths


def _read(path: str, name: str) -> str:
    with open(os.path.join(path, name)) as f:
        return f.read()


def test_v1_files(tmp_path):
    controllers = {
        "memory": ("memory",),
        "cpu": ("cpu",),
        "cpuset": ("cpuset",),
        "pids": ("pids",),
        "blkio": ("blkio",),
    }
    hierarchies, paths = _tree(tmp_path, controllers)
    limits.apply(RESOURCES, hierarchies, paths)
    mem, cpu, cpuset, pids, blkio = paths
    assert _read(mem, "memory.limit_in_bytes") == str(64 << 20)
    assert _read(mem, "memory.memsw.limit_in_bytes") == str(128 << 20)
    assert _read(mem, "memory.soft_limit_in_bytes") == str(32 << 20)
    assert _read(mem, "memory.swappiness") == "10"
    assert _read(mem, "memory.oom_control") == "1"
    assert (_read(cpu, "cpu.shares"), _read(cpu, "cpu.cfs_period_us"), _read(cpu, "cpu.cfs_quota_us")) == (
        "512",
        "100000",
        "50000",
    )
    assert (_read(cpuset, "cpuset.cpus"), _read(cpuset, "cpuset.mems")) == ("0", "0")
    assert _read(pids, "pids.max") == "20"
    assert _read(blkio, "blkio.weight") == "300"
    assert _read(blkio, "blkio.throttle.read_bps_device") == "8:0 1048576"


def test_v2_files(tmp_path):
    hierarchies, paths = _tree(tmp_path, {"unified": ("cpuset", "cpu", "io", "memory", "pids")})
    limits.apply(RESOURCES, hierarchies, paths)
    (path,) = paths
    assert _read(path, "memory.max") == str(64 << 20)
    assert _read(path, "memory.swap.max") == str(64 << 20)  # v2 counts swap alone: 128M - 64M
    assert _read(path, "memory.low") == str(32 << 20)
    assert not os.path.exists(os.path.join(path, "memory.swappiness"))
    assert _read(path, "cpu.weight") == "20"
    assert _read(path, "cpu.max") == "50000 100000"
    assert (_read(path, "cpuset.cpus"), _read(path, "cpuset.mems")) == ("0", "0")
    assert _read(path, "pids.max") == "20"
    assert _read(path, "io.max") == "8:0 rbps=1048576"
    assert _read(path, "io.weight") == "default 300"


def test_v2_unlimited_values_are_max():
    res = {"memory": {"limit": -1, "swap": -1}, "cpu": {"quota": -1, "period": 100000}, "pids": {"limit": 0}}
    assert memory.settings(res, 2) == [("memory.max", "max"), ("memory.swap.max", "max")]
    writes = dict(
        (os.path.basename(p), v)
        for p, v in limits.writes(res, [Hierarchy("/u", 2, ("cpu", "memory", "pids"))], ["/u/c"])
    )
    assert writes == {"memory.max": "max", "memory.swap.max": "max", "cpu.max": "max 100000", "pids.max": "max"}


def test_a_refused_write_is_retried_after_the_others(tmp_path, monkeypatch):
    """v1 refuses a memory limit above memsw: raising both needs memsw first, whatever the order."""
    hierarchies, paths = _tree(tmp_path, {"memory": ("memory",)})
    written = []
    real_write = hierarchy.write_file

    def kernel_like_write(path, value):
        if path.endswith("memory.limit_in_bytes") and "memsw" not in written:
            raise OSError(errno.EINVAL, "Invalid argument")
        written.append("memsw" if "memsw" in path else "limit")
        real_write(path, value)

    monkeypatch.setattr(limits, "write_file", kernel_like_write)
    limits.apply({"memory": {"limit": 300, "swap": 600}}, hierarchies, paths)
    assert written == ["memsw", "limit"]


def test_a_write_refused_twice_is_raised_naming_file_and_value(tmp_path):
    hierarchies, paths = _tree(tmp_path, {"pids": ("pids",)})
    (tmp_path / "pids" / "dockyard" / "c1" / "pids.max").mkdir()  # open(..., "w") fails: EISDIR
    with pytest.raises(OSError, match="writing '5' to .*pids.max"):
        limits.apply({"pids": {"limit": 5}}, hierarchies, paths)


def test_a_missing_controller_is_an_error(tmp_path):
    hierarchies, paths = _tree(tmp_path, {"memory": ("memory",)})
    with pytest.raises(OSError, match="cgroup controller pids is not available"):
        limits.apply({"pids": {"limit": 5}}, hierarchies, paths)


def test_usage_reads_limits_and_throttling_v1_and_v2(tmp_path):
    v1 = tmp_path / "v1"
    v1.mkdir()
    for name, text in {
        "memory.usage_in_bytes": "1000",
        "memory.limit_in_bytes": "67108864",
        "cpuacct.usage": "5000",
        "pids.current": "3",
        "pids.max": "20",
        "cpu.stat": "nr_periods 10\nnr_throttled 4\nthrottled_time 900\n",
    }.items():
        (v1 / name).write_text(text)
    usage = read_usage({k: (str(v1), 1) for k in ("memory", "cpuacct", "cpu", "pids")})
    assert (usage.memory_limit, usage.pids, usage.pids_limit, usage.throttling) == (67108864, 3, 20, (10, 4, 900))
    v2 = tmp_path / "v2"
    v2.mkdir()
    for name, text in {
        "memory.current": "1000",
        "memory.max": "max",
        "pids.current": "1",
        "pids.max": "max",
        "cpu.stat": "usage_usec 7\nnr_periods 2\nnr_throttled 1\nthrottled_usec 3\n",
    }.items():
        (v2 / name).write_text(text)
    usage = read_usage({k: (str(v2), 2) for k in ("memory", "cpu", "pids")})
    assert (usage.memory_limit, usage.cpu_ns, usage.pids_limit, usage.throttling) == (None, 7000, None, (2, 1, 3000))


def test_sysinfo_reads_what_the_v1_roots_offer(tmp_path):
    for mount, files in {
        "memory": ("memory.limit_in_bytes", "memory.soft_limit_in_bytes", "memory.oom_control"),
        "cpu": ("cpu.shares", "cpu.cfs_quota_us"),
        "cpuset": ("cpuset.effective_cpus", "cpuset.effective_mems"),
        "blkio": ("blkio.throttle.read_bps_device",),
    }.items():
        (tmp_path / mount).mkdir()
        for name in files:
            (tmp_path / mount / name).write_text("0-3\n" if "effective" in name else "0\n")
    hierarchies = [Hierarchy(str(tmp_path / m), 1, (m,)) for m in ("memory", "cpu", "cpuset", "blkio")]
    found = sysinfo.probe(hierarchies)
    assert (found.memory, found.swap, found.reservation, found.oom_kill_disable) == (True, False, True, True)
    assert (found.cpu_shares, found.cpu_cfs, found.cpuset, found.cpus, found.pids) == (True, True, True, "0-3", False)
    assert (found.blkio_weight, found.blkio_read_bps, found.blkio_write_bps) == (False, True, False)

"""Pure tests: mount options, rootfs path resolution, cgroup settings and hierarchies, PATH lookup."""

import os
import subprocess
import time

import pytest

from dockyard.runtime import syscalls as sc
from dockyard.runtime.cgroups import cpu, devices, hierarchy, limits, memory, pids
from dockyard.runtime.cgroups.hierarchy import Hierarchy
from dockyard.runtime.init import ExecError, find_executable
from dockyard.runtime.mounts import parse_options
from dockyard.runtime.rootpath import resolve_in_root
from dockyard.runtime.spec import DEFAULT_DEVICE_RULES

MOUNTINFO = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""


def test_parse_options_splits_flags_propagation_and_data():
    opts = parse_options(["nosuid", "noexec", "ro", "rprivate", "mode=755", "size=65536k"])
    assert opts.flags == sc.MS_NOSUID | sc.MS_NOEXEC | sc.MS_RDONLY
    assert opts.propagation == sc.MS_PRIVATE | sc.MS_REC
    assert opts.data == "mode=755,size=65536k"
    assert parse_options(["ro", "rw"]).flags == 0
    assert parse_options(["rbind"]).is_bind and parse_options(["rbind"]).flags & sc.MS_REC


def test_resolve_in_root_clamps_every_escape(tmp_path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    os.symlink("/../../../../etc", root / "abs")
    os.symlink("../../..", root / "etc" / "up")
    os.symlink("loop", root / "loop")
    assert resolve_in_root(str(root), "/abs/passwd") == str(root / "etc" / "passwd")
    assert resolve_in_root(str(root), "/etc/up/etc/x") == str(root / "etc" / "x")
    assert resolve_in_root(str(root), "../../x") == str(root / "x")
    with pytest.raises(OSError, match="too many levels"):
        resolve_in_root(str(root), "/loop/x")


def test_parse_mountinfo_finds_v1_and_v2():
    found = hierarchy.parse_mountinfo(MOUNTINFO)
    assert found == [
        Hierarchy("/sys/fs/cgroup/cpu", 1, ("cpu",)),
        Hierarchy("/sys/fs/cgroup/memory", 1, ("memory",)),
        Hierarchy("/sys/fs/cgroup/systemd", 1, ("name=systemd",)),
        Hierarchy("/sys/fs/cgroup/unified", 2, ()),
    ]


def test_controller_settings_v1_and_v2():
    res = {"memory": {"limit": 100, "swap": 300}, "pids": {"limit": 0}, "cpu": {"shares": 1024, "quota": 50000}}
    assert memory.settings(res, 1) == [("memory.limit_in_bytes", "100"), ("memory.memsw.limit_in_bytes", "300")]
    assert memory.settings(res, 2) == [("memory.max", "100"), ("memory.swap.max", "200")]
    assert pids.settings(res, 2) == [("pids.max", "max")]
    assert cpu.settings(res, 1) == [("cpu.shares", "1024"), ("cpu.cfs_quota_us", "50000")]
    assert cpu.settings(res, 2) == [("cpu.weight", "39"), ("cpu.max", "50000 100000")]
    assert cpu.shares_to_weight(2) == 1 and cpu.shares_to_weight(262144) == 10000


def test_device_rules_render_like_the_kernel_wants():
    lines = [devices.rule_line(r) for r in DEFAULT_DEVICE_RULES]
    assert lines[:4] == ["a", "c *:* m", "b *:* m", "c 1:3 rwm"]
    assert "c 136:* rwm" in lines
    assert devices.settings({"devices": list(DEFAULT_DEVICE_RULES)}, 2) == []


def test_create_apply_and_remove_in_tmp_path(tmp_path):
    v1 = tmp_path / "memory"
    v2 = tmp_path / "unified"
    v1.mkdir()
    v2.mkdir()
    (v2 / "cgroup.subtree_control").write_text("")
    hs = [Hierarchy(str(v1), 1, ("memory",)), Hierarchy(str(v2), 2, ("pids",))]
    paths = hierarchy.create(hs, "dockyard/abc")
    assert paths == [str(v1 / "dockyard" / "abc"), str(v2 / "dockyard" / "abc")]
    assert (v2 / "cgroup.subtree_control").read_text() == "+pids"
    limits.apply({"memory": {"limit": 4096}, "pids": {"limit": 9}}, hs, paths)
    assert (v1 / "dockyard" / "abc" / "memory.limit_in_bytes").read_text() == "4096"
    assert (v2 / "dockyard" / "abc" / "pids.max").read_text() == "9"
    with pytest.raises(OSError, match="controller cpu is not available"):
        limits.apply({"cpu": {"shares": 10}}, hs, paths)
    (v1 / "dockyard" / "abc" / "memory.oom_control").write_text("oom_kill_disable 0\noom_kill 2\n")
    assert memory.oom_kills(paths) == 2
    for path in paths:
        for name in os.listdir(path):
            os.unlink(os.path.join(path, name))
    hierarchy.remove(paths)
    assert not os.path.exists(paths[0]) and not os.path.exists(paths[1])


def test_find_executable_like_go(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "tool").write_text("#!/bin/sh\n")
    (bin_dir / "tool").chmod(0o755)
    (bin_dir / "plain").write_text("x")
    assert find_executable("tool", f"/nonexistent:{bin_dir}") == str(bin_dir / "tool")
    with pytest.raises(ExecError, match='exec: "plain": executable file not found in \\$PATH') as e:
        find_executable("plain", str(bin_dir))
    assert e.value.code == 127
    with pytest.raises(ExecError, match="permission denied") as e:
        find_executable(str(bin_dir / "plain"), "")
    assert e.value.code == 126


def test_read_usage_v1_and_v2(tmp_path):
    from dockyard.runtime.cgroups.stats import read_usage

    v1, v2 = tmp_path / "v1", tmp_path / "v2"
    v1.mkdir()
    v2.mkdir()
    (v1 / "memory.usage_in_bytes").write_text("4096\n")
    (v1 / "memory.limit_in_bytes").write_text("8192\n")
    (v1 / "cpuacct.usage").write_text("123456\n")
    (v2 / "memory.current").write_text("100\n")
    (v2 / "memory.max").write_text("max\n")
    (v2 / "cpu.stat").write_text("usage_usec 7\nuser_usec 5\n")
    (v2 / "pids.current").write_text("3\n")
    got = read_usage({"memory": (str(v1), 1), "cpuacct": (str(v1), 1), "pids": (str(v2), 2)})
    assert (got.memory_bytes, got.memory_limit, got.cpu_ns, got.pids) == (4096, 8192, 123456, 3)
    got = read_usage({"memory": (str(v2), 2), "cpu": (str(v2), 2)})
    assert (got.memory_bytes, got.memory_limit, got.cpu_ns, got.pids) == (100, None, 7000, None)


def test_a_zombie_shim_counts_as_gone(tmp_path):
    """A shim killed after the daemon died stays a zombie where PID 1 does not reap: it is gone."""
    from dockyard.runtime.client import _shim_alive

    child = subprocess.Popen(["sleep", "100"])
    try:
        (tmp_path / "shim.pid").write_text(str(child.pid))
        assert _shim_alive(tmp_path)
        child.kill()
        deadline = time.monotonic() + 5
        while open(f"/proc/{child.pid}/stat").read().rpartition(")")[2].split()[0] != "Z":
            assert time.monotonic() < deadline
        assert not _shim_alive(tmp_path)  # not reaped yet: a zombie
    finally:
        child.kill()
        child.wait()
    assert not _shim_alive(tmp_path)


def test_state_files_a_power_loss_emptied_read_as_absent(tmp_path):
    """A task's files are written unsynced: empty ones mean a shim gone without an exit record."""
    from dockyard.runtime.client import ShimRuntime

    for name in ("task.json", "exit.json", "shim.pid"):
        (tmp_path / name).write_bytes(b"")
    state = ShimRuntime().state(tmp_path)
    assert (state.status, state.exit_code) == ("stopped", 255)


def test_a_tasks_state_files_and_their_crash_leftovers_go_and_nothing_else(tmp_path):
    from dockyard.runtime import client

    for name in ("task.json", "exit.json", "shim.pid", ".task.json.0123456789ab.tmp", "hostname", "rootfs.keep"):
        (tmp_path / name).write_text("x")
    client._remove_state(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["hostname", "rootfs.keep"]
    client._remove_state(tmp_path / "gone")  # no directory: nothing to do

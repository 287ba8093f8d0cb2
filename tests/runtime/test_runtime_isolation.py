"""Root tests of what the process sees inside: pid 1, hostname, rootfs, /sys, /dev, user, caps."""

import os

import pytest

from dockyard.runtime.spec import default_spec, process_spec
from tests.runtime.busybox import make_spec, run_task

pytestmark = pytest.mark.root


def _out(runtime, state_dir, rootfs, script, **options):
    code, out, err = run_task(runtime, state_dir, make_spec(rootfs, ["sh", "-c", script], **options))
    assert code == 0, err
    return out.decode()


def test_process_is_pid_1_and_sees_only_its_own(runtime, state_dir, rootfs):
    out = _out(runtime, state_dir, rootfs, "echo $$; ls /proc")
    first, *entries = out.split()
    pids = sorted(int(e) for e in entries if e.isdigit())
    assert first == "1"
    assert pids[0] == 1 and pids[-1] < 20, pids


def test_hostname_is_set(runtime, state_dir, rootfs):
    assert _out(runtime, state_dir, rootfs, "hostname") == "box\n"


def test_rootfs_is_the_only_filesystem(runtime, state_dir, rootfs):
    out = _out(runtime, state_dir, rootfs, "ls /; echo --; cat /proc/self/mountinfo")
    listing, mountinfo = out.split("--\n")
    assert sorted(listing.split()) == sorted(p.name for p in rootfs.iterdir())
    points = {line.split()[4] for line in mountinfo.splitlines()}
    assert "/" in points and all(not p.startswith(("/work", "/tmp/pytest", "/root")) for p in points)
    assert not any(p.startswith(str(rootfs)) for p in points)


def test_sys_is_read_only(runtime, state_dir, rootfs):
    out = _out(runtime, state_dir, rootfs, "touch /sys/kernel/x 2>&1; mount | grep ' /sys '")
    assert "Read-only file system" in out
    assert "sysfs on /sys type sysfs (ro," in out


def test_dev_has_only_the_standard_devices(runtime, state_dir, rootfs):
    out = _out(runtime, state_dir, rootfs, "ls /dev; echo hi > /dev/null; head -c 4 /dev/zero | wc -c")
    names = out.split()[:-1]
    assert sorted(names) == sorted(
        [
            "core",
            "fd",
            "full",
            "mqueue",
            "null",
            "ptmx",
            "pts",
            "random",
            "shm",
            "stderr",
            "stdin",
            "stdout",
            "tty",
            "urandom",
            "zero",
        ]
    )
    assert out.split()[-1] == "4"


def test_masked_and_readonly_proc_paths(runtime, state_dir, rootfs):
    out = _out(
        runtime,
        state_dir,
        rootfs,
        "wc -c < /proc/keys; grep -c . /proc/timer_list; "
        "(echo 1 > /proc/sys/kernel/domainname) 2>&1; ls /proc/acpi | wc -l",
    )
    keys, timer_list, error, acpi = out.splitlines()
    assert (keys.strip(), timer_list.strip(), acpi.strip()) == ("0", "0", "0")
    assert "Read-only file system" in error


def test_user_switching(runtime, state_dir, rootfs):
    out = _out(runtime, state_dir, rootfs, "id", uid=1000, gid=1000, additional_gids=[50])
    assert "uid=1000(app) gid=1000(app)" in out and "50(staff)" in out


def test_capabilities_are_dockers_defaults(runtime, state_dir, rootfs):
    out = _out(runtime, state_dir, rootfs, "grep Cap /proc/self/status")
    caps = dict(line.split(":\t") for line in out.splitlines())
    assert int(caps["CapBnd"], 16) == 0xA80425FB  # the 14 defaults, as docker shows them
    assert int(caps["CapEff"], 16) == 0xA80425FB


def test_non_root_user_has_no_effective_caps(runtime, tmp_path, rootfs):
    state = tmp_path / "nonroot"
    state.mkdir()
    code, out, _ = run_task(
        runtime, state, make_spec(rootfs, ["grep", "CapEff", "/proc/self/status"], uid=1000, gid=1000)
    )
    runtime.delete(state)
    assert code == 0 and int(out.split()[1], 16) == 0


def test_cwd_is_created_and_used(runtime, state_dir, rootfs):
    assert _out(runtime, state_dir, rootfs, "pwd", cwd="/work/dir") == "/work/dir\n"
    assert (rootfs / "work" / "dir").is_dir()


def test_readonly_rootfs_and_bind_mounts(runtime, state_dir, rootfs, tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost box\n")
    data = tmp_path / "data"
    data.mkdir()
    binds = [
        {"destination": "/etc/hosts", "type": "bind", "source": str(hosts), "options": ["rbind", "ro"]},
        {"destination": "/data", "type": "bind", "source": str(data), "options": ["rbind"]},
    ]
    process = process_spec(["sh", "-c", "cat /etc/hosts; touch /x 2>&1; echo written > /data/f"], env=["PATH=/bin"])
    spec = default_spec(process, root=str(rootfs), hostname="box", readonly_rootfs=True, mounts=binds)
    code, out, _ = run_task(runtime, state_dir, spec)
    assert code == 0
    assert b"127.0.0.1 localhost box" in out and b"Read-only file system" in out
    assert (data / "f").read_text() == "written\n"
    assert not (rootfs / "x").exists()


def test_loopback_is_up_in_new_network_namespace(runtime, state_dir, rootfs):
    out = _out(runtime, state_dir, rootfs, "cat /proc/net/dev; cat /sys/class/net/lo/operstate")
    assert "lo:" in out and "eth0" not in out
    assert out.split()[-1] in ("unknown", "up")


def _mount_points_under(path) -> list[str]:
    """Host mount points below `path` (other tests may mount elsewhere meanwhile)."""
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if line.split()[4].startswith(str(path))]


def test_host_mounts_are_untouched(runtime, state_dir, rootfs):
    before = _mount_points_under(rootfs.parent)
    _out(runtime, state_dir, rootfs, "true")
    assert _mount_points_under(rootfs.parent) == before
    assert not os.path.ismount(rootfs)

"""Root tests of the less common paths: devices cgroup, OOM, TTY exec, many attachers, sysctls."""

import os
import socket

import pytest

from dockyard.runtime.runtime import IOConfig
from dockyard.runtime.spec import process_spec
from tests.runtime.busybox import collect, make_spec, run_task

pytestmark = pytest.mark.root


def test_device_cgroup_denies_host_disks(runtime, state_dir, rootfs):
    script = "mknod /tmp/disk b 7 0 && head -c 1 /tmp/disk; echo rc=$?"
    code, out, err = run_task(runtime, state_dir, make_spec(rootfs, ["sh", "-c", script]))
    assert b"rc=1" in out and b"Operation not permitted" in err


def test_oom_kill_is_reported(runtime, state_dir, rootfs):
    spec = make_spec(rootfs, ["dd", "if=/dev/zero", "of=/dev/null", "bs=256M", "count=1"])
    spec["linux"]["resources"]["memory"] = {"limit": 32 * 1024 * 1024, "swap": 32 * 1024 * 1024}
    spec["linux"]["cgroupsPath"] = f"dockyard/oom-{os.getpid()}"
    runtime.create(state_dir, spec, IOConfig())
    runtime.start(state_dir)
    state = runtime.wait(state_dir, timeout=30)
    assert (state.exit_code, state.oom_killed) == (137, True)
    assert runtime.state(state_dir).oom_killed is True


def test_exec_with_a_tty(runtime, state_dir, rootfs):
    runtime.create(state_dir, make_spec(rootfs, ["sleep", "100"]), IOConfig())
    runtime.start(state_dir)
    exec_dir = state_dir / "execs" / "t"
    process = process_spec(["sh", "-c", "tty; stty size"], env=["PATH=/bin"], terminal=True)
    process["consoleSize"] = {"height": 33, "width": 77}
    runtime.create_exec(exec_dir, state_dir, process, IOConfig(tty=True))
    sock = runtime.attach(exec_dir, False, True, True)
    runtime.start(exec_dir)
    out, _ = collect(sock, tty=True)
    assert runtime.wait(exec_dir, timeout=10).exit_code == 0
    assert out.replace(b"\r\n", b"\n") == b"/dev/pts/0\n33 77\n"


def test_every_attacher_gets_the_output(runtime, state_dir, rootfs):
    runtime.create(state_dir, make_spec(rootfs, ["sh", "-c", "echo one; echo two >&2"]), IOConfig())
    both = runtime.attach(state_dir, False, True, True)
    only_err = runtime.attach(state_dir, False, False, True)
    runtime.start(state_dir)
    assert collect(both) == (b"one\n", b"two\n")
    assert collect(only_err) == (b"", b"two\n")


def test_stdin_stays_open_without_stdin_once(runtime, state_dir, rootfs):
    runtime.create(state_dir, make_spec(rootfs, ["sh", "-c", "read a; read b; echo $a$b"]), IOConfig(open_stdin=True))
    first = runtime.attach(state_dir, True, True, False)
    runtime.start(state_dir)
    first.sendall(b"x\n")
    first.shutdown(socket.SHUT_WR)  # detaching does not close the process's stdin
    second = runtime.attach(state_dir, True, False, False)
    second.sendall(b"y\n")
    assert collect(first) == (b"xy\n", b"")
    second.close()
    assert runtime.wait(state_dir, timeout=10).exit_code == 0


def test_sysctls_are_written_in_the_container(runtime, state_dir, rootfs):
    spec = make_spec(rootfs, ["cat", "/proc/sys/net/ipv4/ip_forward"])
    spec["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
    assert run_task(runtime, state_dir, spec)[:2] == (0, b"1\n")


def test_slow_attacher_loses_nothing(runtime, state_dir, rootfs):
    import time

    spec = make_spec(rootfs, ["dd", "if=/dev/zero", "bs=65536", "count=64"])  # 4 MiB
    runtime.create(state_dir, spec, IOConfig())
    sock = runtime.attach(state_dir, False, True, False)
    runtime.start(state_dir)
    time.sleep(0.5)  # the shim hits its high-water mark and stops reading: dd blocks
    assert runtime.state(state_dir).status == "running"
    out, _ = collect(sock)
    assert len(out) == 4 * 1024 * 1024 and out.count(b"\0") == len(out)
    assert runtime.wait(state_dir, timeout=10).exit_code == 0


def test_rlimits_oom_score_and_umask(runtime, state_dir, rootfs):
    spec = make_spec(
        rootfs,
        ["sh", "-c", "ulimit -n; cat /proc/self/oom_score_adj; umask"],
        rlimits=[{"type": "RLIMIT_NOFILE", "soft": 256, "hard": 512}],
    )
    spec["process"]["oomScoreAdj"] = 500
    spec["process"]["user"]["umask"] = 0o027
    code, out, _ = run_task(runtime, state_dir, spec)
    assert (code, out.split()) == (0, [b"256", b"500", b"0027"])


def test_unsupported_namespace_fails_create_cleanly(runtime, state_dir, rootfs):
    from dockyard.errors import RuntimeFailure

    spec = make_spec(rootfs, ["true"])
    spec["linux"]["namespaces"].append({"type": "user"})
    with pytest.raises(RuntimeFailure, match="user namespaces are not supported"):
        runtime.create(state_dir, spec, IOConfig())
    assert list(state_dir.iterdir()) == []


def test_pause_resume_pids_and_stats(runtime, state_dir, rootfs):
    spec = make_spec(rootfs, ["sh", "-c", "sleep 100 & while true; do echo tick; sleep 0.05; done"], terminal=True)
    pid = runtime.create(state_dir, spec, IOConfig(tty=True))
    sock = runtime.attach(state_dir, False, True, False)
    runtime.start(state_dir)
    assert sock.recv(4) == b"tick"
    pids = runtime.pids(state_dir)
    assert pids[0] == pid and len(pids) >= 2
    usage = runtime.stats(state_dir)
    assert usage.memory_bytes > 0 and usage.cpu_ns > 0 and usage.pids >= 2
    runtime.pause(state_dir)
    sock.settimeout(0.05)
    try:
        while sock.recv(4096):  # drain what was written before the freeze
            pass
    except TimeoutError:
        pass
    sock.settimeout(0.3)
    with pytest.raises(TimeoutError):
        sock.recv(4096)  # frozen: no more ticks
    runtime.resume(state_dir)
    sock.settimeout(5)
    assert b"tick" in sock.recv(4096)
    sock.close()

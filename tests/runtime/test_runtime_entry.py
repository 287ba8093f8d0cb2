"""The process entering a container never exposes the host's interpreter (CVE-2019-5736 class)
and takes no stray fd into the container (CVE-2024-21626 class). Root only."""

from __future__ import annotations

import os

import pytest

from dockyard.runtime.runtime import IOConfig
from dockyard.runtime.spec import process_spec
from tests.runtime.busybox import collect, make_spec

pytestmark = pytest.mark.root


def _exec(runtime, state_dir, name, args, start=True):
    exec_dir = state_dir / "execs" / name
    pid = runtime.create_exec(exec_dir, state_dir, process_spec(args, env=["PATH=/bin"]), IOConfig())
    if not start:
        return pid, None
    sock = runtime.attach(exec_dir, False, True, True)
    runtime.start(exec_dir)
    out, err = collect(sock)
    runtime.wait(exec_dir, timeout=10)
    return pid, (out + err).decode()


def test_an_exec_waiting_to_start_is_not_reachable_from_the_container(runtime, state_dir, rootfs):
    (rootfs / "bin" / "readlink").symlink_to("busybox")
    runtime.create(state_dir, make_spec(rootfs, ["sleep", "100"]), IOConfig())
    runtime.start(state_dir)
    waiting, _ = _exec(runtime, state_dir, "waiting", ["true"], start=False)
    assert os.readlink(f"/proc/{waiting}/exe").endswith(os.path.basename(os.path.realpath("/proc/self/exe")))
    with open(f"/proc/{waiting}/status") as f:
        inner_pid = next(line.split()[-1] for line in f if line.startswith("NSpid:"))
    script = f"readlink /proc/{inner_pid}/exe; echo rc=$?; cat /proc/{inner_pid}/exe > /dev/null; echo rc=$?"
    _, output = _exec(runtime, state_dir, "prober", ["sh", "-c", script])
    assert "rc=1\n" in output and "rc=0" not in output, output
    assert "python" not in output


def test_no_runtime_fd_reaches_the_container(runtime, state_dir, rootfs):
    runtime.create(state_dir, make_spec(rootfs, ["sleep", "100"]), IOConfig())
    runtime.start(state_dir)
    _, output = _exec(runtime, state_dir, "fds", ["ls", "/proc/self/fd"])
    assert output.split() == ["0", "1", "2", "3"]  # stdio, and the fd ls itself opened

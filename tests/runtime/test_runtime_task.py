"""The task the runtime client hands a shim: the seccomp profile travels as its compiled program."""

import base64
import signal

import pytest

from dockyard.engine.containers import specgen
from dockyard.engine.containers.security import SecurityOptions
from dockyard.errors import Conflict
from dockyard.runtime import default_profile, seccomp
from dockyard.runtime.client import ShimRuntime
from dockyard.runtime.runtime import IOConfig
from dockyard.runtime.spec import process_spec
from tests.runtime.busybox import build_rootfs, make_spec

CAPS = ["CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_SETGID"]


def _spec(profile: dict | None) -> dict:
    linux = {"namespaces": [{"type": "mount"}], **({"seccomp": profile} if profile else {})}
    return {"process": {"args": ["true"], "terminal": False}, "root": {"path": "/x"}, "linux": linux}


def test_the_default_profile_is_resolved_once_per_capability_set():
    options = SecurityOptions()
    first = specgen.seccomp_profile(options, CAPS, privileged=False)
    assert specgen.seccomp_profile(options, list(CAPS), privileged=False) is first
    assert first == seccomp.oci_profile(default_profile.profile(), CAPS)
    assert specgen.seccomp_profile(options, [*CAPS, "CAP_SYS_ADMIN"], privileged=False) != first


def test_our_init_gets_the_program_instead_of_the_profile(monkeypatch):
    profile = specgen.seccomp_profile(SecurityOptions(), CAPS, privileged=False)
    compiled = []
    real = seccomp.compile_profile
    monkeypatch.setattr(seccomp, "compile_profile", lambda p: compiled.append(p) or real(p))
    runtime = ShimRuntime()
    task = runtime._init_task(_spec(profile), IOConfig(), None)
    assert "seccomp" not in task["spec"]["linux"] and task["spec"]["linux"]["namespaces"]
    assert base64.b64decode(task["seccomp_bpf"]) == real(profile)
    again = runtime._init_task(_spec(seccomp.oci_profile(default_profile.profile(), CAPS)), IOConfig(), None)
    assert again["seccomp_bpf"] == task["seccomp_bpf"] and len(compiled) == 1  # an equal profile: compiled once
    other = runtime._init_task(_spec({**profile, "defaultErrnoRet": 38}), IOConfig(), None)
    assert other["seccomp_bpf"] != task["seccomp_bpf"] and len(compiled) == 2


def test_an_external_runtime_gets_the_profile_itself():
    profile = specgen.seccomp_profile(SecurityOptions(), CAPS, privileged=False)
    task = ShimRuntime()._init_task(_spec(profile), IOConfig(), ["/usr/bin/runc"])
    assert task["spec"]["linux"]["seccomp"] == profile and "seccomp_bpf" not in task


def test_an_unconfined_task_has_no_program():
    task = ShimRuntime()._init_task(_spec(None), IOConfig(), None)
    assert "seccomp_bpf" not in task and "seccomp" not in task["spec"]["linux"]


def test_an_exec_without_its_containers_task_is_refused(tmp_path):
    """An exec takes its container's filter from the container's task: none, no exec (never an
    exec without the filter)."""
    runtime, task = ShimRuntime(), tmp_path / "task"
    runtime.create(task, make_spec(build_rootfs(tmp_path / "rootfs"), ["sleep", "1000"]), IOConfig())
    runtime.start(task)
    try:
        (task / "task.json").unlink()
        with pytest.raises(Conflict):
            runtime.create_exec(task / "execs" / "e", task, process_spec(["true"], env=["PATH=/bin"]), IOConfig())
    finally:
        runtime.kill(task, signal.SIGKILL)
        runtime.wait(task, timeout=10)
        runtime.delete(task)
        runtime.close()

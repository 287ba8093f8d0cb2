"""Seccomp: Docker-profile conversion (pure) and real filters loaded in a container (root)."""

import json
from pathlib import Path

import pytest

from dockyard.runtime.capabilities import DEFAULT_CAPABILITIES
from dockyard.runtime.seccomp import action_value, conditions, oci_profile
from tests.runtime.busybox import make_spec, run_task

# Docker's profile is read from the workspace's shared/ reference beside the checkout, never copied
DOCKER_DEFAULT = next(
    (
        p / "shared" / "reference" / "seccomp" / "docker-default.json"
        for p in Path(__file__).resolve().parents
        if (p / "shared" / "reference" / "seccomp" / "docker-default.json").exists()
    ),
    Path("/nonexistent"),
)

PROFILE = {
    "defaultAction": "SCMP_ACT_ERRNO",
    "defaultErrnoRet": 1,
    "archMap": [
        {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]},
        {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
    ],
    "syscalls": [
        {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64"]}},
        {"names": ["chroot"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_CHROOT"]}},
        {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
        {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
        {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
        {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 40, "op": "SCMP_CMP_NE"}]},
    ],
}


def _names(profile):
    return [n for rule in profile["syscalls"] for n in rule["names"]]


def test_conversion_for_default_caps_on_amd64():
    got = oci_profile(PROFILE, list(DEFAULT_CAPABILITIES), arch="amd64", kernel="6.1.0-18-amd64")
    assert got["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]
    assert got["defaultErrnoRet"] == 1
    assert _names(got) == ["read", "write", "arch_prctl", "chroot", "clone3", "ptrace", "socket"]
    clone3 = next(r for r in got["syscalls"] if r["names"] == ["clone3"])
    assert clone3["errnoRet"] == 38


def test_conversion_follows_caps_arch_and_kernel():
    got = oci_profile(PROFILE, ["CAP_SYS_ADMIN"], arch="arm64", kernel="4.4.0")
    assert got["architectures"] == ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]
    assert _names(got) == ["read", "write", "mount", "socket"]


def test_actions_and_conditions():
    assert action_value("SCMP_ACT_ALLOW", None) == 0x7FFF0000
    assert action_value("SCMP_ACT_ERRNO", None) == 0x00050001
    assert action_value("SCMP_ACT_ERRNO", 38) == 0x00050026
    assert conditions([{"index": 0, "value": 7, "valueTwo": 1, "op": "SCMP_CMP_MASKED_EQ"}]) == [(0, 7, 7, 1)]
    with pytest.raises(ValueError, match="unknown seccomp action"):
        action_value("SCMP_ACT_NOPE", None)


@pytest.mark.root
def test_a_filter_blocks_a_syscall(runtime, state_dir, rootfs):
    spec = make_spec(rootfs, ["sh", "-c", "grep Seccomp: /proc/self/status; mkdir /tmp/d; echo rc=$?"])
    spec["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}],
    }
    code, out, err = run_task(runtime, state_dir, spec)
    assert code == 0
    assert b"Seccomp:\t2" in out and b"rc=1" in out and b"Permission denied" in err
    assert not (rootfs / "tmp" / "d").exists()


@pytest.mark.root
@pytest.mark.skipif(not DOCKER_DEFAULT.exists(), reason="needs Docker's default profile")
def test_dockers_default_profile_runs_a_shell_and_blocks_unshare(runtime, state_dir, rootfs):
    (rootfs / "bin" / "unshare").symlink_to("busybox")
    profile = oci_profile(json.loads(DOCKER_DEFAULT.read_text()), list(DEFAULT_CAPABILITIES))
    spec = make_spec(rootfs, ["sh", "-c", "echo hi; unshare -U true; echo rc=$?"], uid=1000, gid=1000)
    spec["linux"]["seccomp"] = profile
    code, out, err = run_task(runtime, state_dir, spec)
    assert code == 0 and out.startswith(b"hi\n") and b"rc=1" in out
    assert b"Operation not permitted" in err


@pytest.mark.root
def test_execs_get_the_containers_filter(runtime, state_dir, rootfs):
    from dockyard.runtime.runtime import IOConfig
    from dockyard.runtime.spec import process_spec
    from tests.runtime.busybox import collect

    spec = make_spec(rootfs, ["sleep", "100"])
    spec["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}],
    }
    runtime.create(state_dir, spec, IOConfig())
    runtime.start(state_dir)
    exec_dir = state_dir / "execs" / "e"
    runtime.create_exec(exec_dir, state_dir, process_spec(["mkdir", "/tmp/e"], env=["PATH=/bin"]), IOConfig())
    sock = runtime.attach(exec_dir, False, True, True)
    runtime.start(exec_dir)
    _, err = collect(sock)
    assert runtime.wait(exec_dir, timeout=10).exit_code == 1
    assert b"Operation not permitted" in err

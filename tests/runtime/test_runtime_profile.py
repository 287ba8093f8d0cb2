"""dockyard's default seccomp profile against Docker's, and the cgroup v2 device program. Pure."""

from __future__ import annotations

import json
import os
import struct
import uuid
from pathlib import Path

import pytest

from dockyard.runtime import default_profile
from dockyard.runtime import syscalls as sc
from dockyard.runtime.capabilities import ALL_CAPABILITIES, DEFAULT_CAPABILITIES, from_mask, host_bounding_set
from dockyard.runtime.cgroups import devicebpf, hierarchy
from dockyard.runtime.seccomp import oci_profile
from dockyard.runtime.spec import DEFAULT_DEVICE_RULES, capability_set


def _reference() -> Path | None:
    """Docker's profile in the workspace's shared/reference (read for comparison, never copied)."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "reference" / "seccomp" / "docker-default.json"
        if candidate.exists():
            return candidate
    return None


def _effect(profile: dict) -> set:
    """What a resolved profile does: (syscall, action, errno, args) for every name."""
    return {
        (name, rule["action"], rule.get("errnoRet"), json.dumps(rule.get("args") or [], sort_keys=True))
        for rule in profile["syscalls"]
        for name in rule["names"]
    }


CAP_SETS = [
    list(DEFAULT_CAPABILITIES),
    [*DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"],
    [*DEFAULT_CAPABILITIES, "CAP_SYS_PTRACE", "CAP_SYS_MODULE", "CAP_SYS_TIME", "CAP_BPF"],
    list(ALL_CAPABILITIES),
    [],
]


@pytest.mark.skipif(_reference() is None, reason="needs Docker's default profile in shared/reference")
@pytest.mark.parametrize("caps", CAP_SETS)
@pytest.mark.parametrize(("arch", "kernel"), [("amd64", "6.1.0"), ("arm64", "5.10.0"), ("s390x", "4.4.0")])
def test_same_effect_as_dockers_profile(caps, arch, kernel):
    docker = json.loads(_reference().read_text())
    ours = oci_profile(default_profile.profile(), caps, arch=arch, kernel=kernel)
    theirs = oci_profile(docker, caps, arch=arch, kernel=kernel)
    assert ours["defaultAction"] == theirs["defaultAction"] and ours["defaultErrnoRet"] == theirs["defaultErrnoRet"]
    assert ours["architectures"] == theirs["architectures"]
    assert _effect(ours) == _effect(theirs)


def _allowed(caps: list[str]) -> set[str]:
    resolved = oci_profile(default_profile.profile(), caps, arch="amd64", kernel="6.1.0")
    return {
        n
        for rule in resolved["syscalls"]
        if rule["action"] == "SCMP_ACT_ALLOW" and not rule.get("args")
        for n in rule["names"]
    }


def test_default_caps_leave_out_namespaces_modules_and_keyrings():
    allowed = _allowed(list(DEFAULT_CAPABILITIES))
    for name in ("unshare", "setns", "mount", "init_module", "finit_module", "keyctl", "add_key", "bpf", "sethostname"):
        assert name not in allowed, name
    assert {"read", "execve", "ptrace", "chroot"} <= allowed


def test_added_capabilities_unlock_their_syscalls():
    assert {"unshare", "setns", "mount", "clone3"} <= _allowed([*DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"])
    assert {"init_module", "delete_module"} <= _allowed(["CAP_SYS_MODULE"])
    assert "keyctl" not in _allowed(list(ALL_CAPABILITIES))


def test_capability_masks_and_privileged_within_the_host_set():
    assert from_mask(0b101) == ["CAP_CHOWN", "CAP_DAC_READ_SEARCH"]
    host = [c for c in ALL_CAPABILITIES if c != "CAP_SYS_RESOURCE"]
    assert capability_set(privileged=True, available=host) == host
    assert "CAP_SYS_RESOURCE" not in capability_set(["ALL"], available=host)
    assert set(host_bounding_set()) <= set(ALL_CAPABILITIES)


# ---- the device program, run by a small interpreter of the opcodes it uses ---------------


def _run(code: bytes, kind: str, access: str, major: int, minor: int) -> int:
    regs = [0] * 11
    ctx = ((devicebpf.access_mask(access) << 16) | (1 if kind == "b" else 2), major, minor)
    pc = 0
    while True:
        op, regbyte, off, imm = struct.unpack_from("<BBhi", code, pc * 8)
        dst, src = regbyte & 0xF, regbyte >> 4
        pc += 1
        if op == devicebpf.LDX_W:
            regs[dst] = ctx[off // 4]
        elif op == devicebpf.AND32_K:
            regs[dst] &= imm & 0xFFFFFFFF
        elif op == devicebpf.RSH32_K:
            regs[dst] >>= imm
        elif op == devicebpf.MOV32_K:
            regs[dst] = imm
        elif op == devicebpf.MOV32_X:
            regs[dst] = regs[src]
        elif op == devicebpf.JNE_K:
            pc += off if regs[dst] != imm else 0
        elif op == devicebpf.JNE_X:
            pc += off if regs[dst] != regs[src] else 0
        elif op == devicebpf.EXIT:
            return regs[0]
        else:
            raise AssertionError(f"unexpected opcode {op:#x}")


@pytest.mark.parametrize(
    ("kind", "access", "major", "minor", "allowed"),
    [
        ("c", "rw", 1, 3, 1),  # /dev/null
        ("c", "r", 1, 9, 1),  # /dev/urandom
        ("c", "rw", 136, 4, 1),  # a pty
        ("c", "w", 10, 200, 1),  # /dev/net/tun
        ("b", "m", 8, 0, 1),  # mknod of any node is allowed...
        ("b", "r", 8, 0, 0),  # ...opening a disk is not
        ("b", "rw", 7, 0, 0),
        ("c", "r", 1, 1, 0),  # /dev/mem
        ("c", "rm", 1, 3, 1),
    ],
)
def test_dockers_default_device_rules(kind, access, major, minor, allowed):
    code = devicebpf.assemble(list(DEFAULT_DEVICE_RULES))
    assert _run(code, kind, access, major, minor) == allowed


def test_later_rules_win_and_wildcards_set_the_default():
    rules = [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "b", "major": 7, "minor": None, "access": "rwm"},
        {"allow": False, "type": "b", "major": 7, "minor": 1, "access": "w"},
    ]
    code = devicebpf.assemble(rules)
    assert _run(code, "b", "rw", 7, 0) == 1
    assert _run(code, "b", "r", 7, 1) == 1 and _run(code, "b", "w", 7, 1) == 0
    assert _run(code, "c", "r", 1, 3) == 0
    everything = devicebpf.assemble([{"allow": True, "access": "rwm"}])
    assert len(everything) == 8 * 8 and _run(everything, "b", "rw", 8, 0) == 1
    with pytest.raises(ValueError):
        devicebpf.access_mask("rx")


def _v2_mount() -> str | None:
    return next((h.path for h in hierarchy.discover() if h.version == 2), None)


@pytest.mark.skipif(os.geteuid() != 0 or _v2_mount() is None, reason="needs root and a cgroup v2 hierarchy")
def test_a_preloaded_device_program_is_attached_without_the_verifier(monkeypatch):
    """The shim fork-server preloads the default rules' program; shims only attach it."""
    cgroup = os.path.join(_v2_mount(), f"dockyard-test-{uuid.uuid4().hex[:8]}")
    os.mkdir(cgroup)
    loads = []
    load = sc.bpf_prog_load_device
    try:
        devicebpf.preload(list(DEFAULT_DEVICE_RULES))
        monkeypatch.setattr(sc, "bpf_prog_load_device", lambda code: loads.append(code) or load(code))
        devicebpf.attach(cgroup, list(DEFAULT_DEVICE_RULES))
        assert loads == []
        devicebpf.attach(cgroup, [{"allow": True, "access": "rwm"}])  # not preloaded: loaded here
        assert len(loads) == 1
    finally:
        os.rmdir(cgroup)  # detaches both programs
        os.close(devicebpf._preloaded.pop(devicebpf.assemble(list(DEFAULT_DEVICE_RULES))))

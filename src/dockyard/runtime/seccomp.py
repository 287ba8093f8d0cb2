"""Seccomp: Docker's profile format turned into OCI `linux.seccomp` (pure), and loading it.

Docker's profiles (moby `profiles/seccomp/default.json`) carry conditions an OCI spec
does not: `includes`/`excludes` on architectures, capabilities and kernel versions, and an
`archMap`. `oci_profile` resolves those for one architecture and capability set, the way
moby's `setupSeccomp` does, leaving a plain list of rules. `compile_profile` turns an OCI
profile into BPF with libseccomp (through syscalls.py) in the daemon; `install` loads that
program in the container's init or exec, just before exec.
"""

from __future__ import annotations

import os

from dockyard.runtime import syscalls as sc

TYPE_CHECKING = False  # typing costs the shim milliseconds at start-up
if TYPE_CHECKING:
    from typing import Any

GO_ARCH = {
    "x86_64": "amd64",
    "aarch64": "arm64",
    "armv7l": "arm",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
    "i686": "386",
}
SCMP_ARCH = {
    "amd64": "SCMP_ARCH_X86_64",
    "arm64": "SCMP_ARCH_AARCH64",
    "arm": "SCMP_ARCH_ARM",
    "ppc64le": "SCMP_ARCH_PPC64LE",
    "s390x": "SCMP_ARCH_S390X",
    "riscv64": "SCMP_ARCH_RISCV64",
    "386": "SCMP_ARCH_X86",
}
ACTIONS = {
    "SCMP_ACT_KILL": 0x0,
    "SCMP_ACT_KILL_THREAD": 0x0,
    "SCMP_ACT_KILL_PROCESS": 0x80000000,
    "SCMP_ACT_TRAP": 0x00030000,
    "SCMP_ACT_ERRNO": 0x00050000,
    "SCMP_ACT_TRACE": 0x7FF00000,
    "SCMP_ACT_LOG": 0x7FFC0000,
    "SCMP_ACT_ALLOW": 0x7FFF0000,
}
OPERATORS = {
    "SCMP_CMP_NE": 1,
    "SCMP_CMP_LT": 2,
    "SCMP_CMP_LE": 3,
    "SCMP_CMP_EQ": 4,
    "SCMP_CMP_GE": 5,
    "SCMP_CMP_GT": 6,
    "SCMP_CMP_MASKED_EQ": 7,
}
EPERM = 1
BINARY_TREE = 2  # libseccomp's SCMP_FLTATR_CTL_OPTIMIZE level: syscalls sorted in a binary tree


def host_arch() -> str:
    """The Go name of this machine's architecture (amd64, arm64, ...)."""
    return GO_ARCH.get(os.uname().machine, os.uname().machine)


def _version(text: str) -> tuple[int, ...]:
    numbers = []
    for part in text.split("."):
        digits = "".join(c for c in part if c.isdigit())
        numbers.append(int(digits or 0))
        if len(numbers) == 2:
            break
    return tuple(numbers)


def _applies(rule: dict[str, Any], arch: str, caps: set[str], kernel: str) -> bool:
    inc, exc = rule.get("includes") or {}, rule.get("excludes") or {}
    if inc.get("arches") and arch not in inc["arches"]:
        return False
    if inc.get("caps") and not set(inc["caps"]) <= caps:
        return False
    if inc.get("minKernel") and _version(kernel) < _version(inc["minKernel"]):
        return False
    if exc.get("arches") and arch in exc["arches"]:
        return False
    if exc.get("caps") and set(exc["caps"]) & caps:
        return False
    return not (exc.get("minKernel") and _version(kernel) >= _version(exc["minKernel"]))


def oci_profile(
    profile: dict[str, Any], capabilities: list[str], arch: str | None = None, kernel: str | None = None
) -> dict[str, Any]:
    """The OCI `linux.seccomp` for Docker-format `profile` given the process's capabilities."""
    arch = arch or host_arch()
    kernel = kernel or os.uname().release
    native = SCMP_ARCH.get(arch)
    architectures = [
        a
        for entry in profile.get("archMap") or []
        if entry["architecture"] == native
        for a in [entry["architecture"], *entry.get("subArchitectures", [])]
    ]
    result: dict[str, Any] = {
        "defaultAction": profile["defaultAction"],
        "architectures": architectures or list(profile.get("architectures") or []),
        "syscalls": [],
    }
    if "defaultErrnoRet" in profile:
        result["defaultErrnoRet"] = profile["defaultErrnoRet"]
    for rule in profile.get("syscalls") or []:
        if not _applies(rule, arch, set(capabilities), kernel):
            continue
        names = rule.get("names") or ([rule["name"]] if rule.get("name") else [])
        entry = {"names": list(names), "action": rule["action"]}
        for key in ("errnoRet", "args"):
            if rule.get(key) is not None:
                entry[key] = rule[key]
        result["syscalls"].append(entry)
    return result


def action_value(action: str, errno_ret: int | None) -> int:
    """libseccomp's number for an OCI action name; ERRNO and TRACE carry the errno."""
    if action not in ACTIONS:
        raise ValueError(f"unknown seccomp action {action!r}")
    value = ACTIONS[action]
    if action in ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"):
        value |= (EPERM if errno_ret is None else errno_ret) & 0xFFFF
    return value


def conditions(args: list[dict[str, Any]]) -> list[tuple[int, int, int, int]]:
    """(arg index, operator, datum_a, datum_b) tuples for libseccomp."""
    result = []
    for arg in args:
        if arg["op"] not in OPERATORS:
            raise ValueError(f"unknown seccomp operator {arg['op']!r}")
        result.append((arg["index"], OPERATORS[arg["op"]], arg.get("value", 0), arg.get("valueTwo", 0)))
    return result


def compile_profile(profile: dict[str, Any]) -> bytes:
    """An OCI seccomp profile compiled by libseccomp into a classic BPF program.

    Compiling Docker's profile costs 10-70 ms here, so the runtime client does it once per
    distinct profile and hands the program to every task that uses it (crun caches too).
    The syscalls are sorted into a binary tree (libseccomp's optimize level 2): a syscall
    is found in about log2(n) comparisons instead of a walk down the list (up to 600
    instructions for clone, 200 for futex or openat), and the kernel installs the program
    faster (1.4 ms instead of 1.9 here: it emulates the filter once per syscall number to
    build its cache of always-allowed syscalls)."""
    default = action_value(profile["defaultAction"], profile.get("defaultErrnoRet"))
    arches = [a.removeprefix("SCMP_ARCH_").lower() for a in profile.get("architectures") or []]
    rules = []
    for rule in profile.get("syscalls") or []:
        action = action_value(rule["action"], rule.get("errnoRet"))
        if action == default:
            continue  # libseccomp refuses rules that repeat the default action
        for name in rule["names"]:
            rules.append((name, action, conditions(rule.get("args") or [])))
    return sc.seccomp_compile(default, arches, rules, BINARY_TREE)


def install(program: bytes) -> None:
    """Load a compiled program into the calling process (just before exec)."""
    sc.seccomp_install(program)

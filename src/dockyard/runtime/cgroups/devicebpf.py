"""Device rules on cgroup v2: an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE.

cgroup v2 has no devices controller; the kernel instead runs the programs attached to a
process's v2 cgroup on every mknod and open of a device node (on a hybrid host too, next
to the v1 devices controller: both must allow). `assemble(rules)` is pure: OCI rules in,
BPF bytecode out, in the shape runc and crun generate. The program sees
`struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }` in r1, where
access_type is (access << 16) | type, and returns 1 to allow, 0 to refuse (EPERM):

    r2 = ctx->access_type & 0xffff     device type: 1 block, 2 char
    r3 = ctx->access_type >> 16        access asked: 1 mknod, 2 read, 4 write
    r4 = ctx->major; r5 = ctx->minor
    one block per rule, the last rule first (the last matching rule decides, as on v1):
        if r2 != type goto next;  if (r3 & access) != r3 goto next;
        if r4 != major goto next; if r5 != minor goto next;   (each only when the rule says)
        return allow
    return the default: that of the last `a` (all devices) rule, else deny

`attach(cgroup_path, rules)` loads it with bpf(2) and attaches it (BPF_F_ALLOW_MULTI);
`preload(rules)` loads it once ahead, for every process forked afterwards.
"""

from __future__ import annotations

import os
import struct

from dockyard.runtime import syscalls as sc

TYPE_CHECKING = False  # typing costs the shim milliseconds at start-up
if TYPE_CHECKING:
    from typing import Any

# eBPF opcodes (linux/bpf.h, linux/bpf_common.h)
LDX_W = 0x61  # dst = *(u32 *)(src + off)
AND32_K = 0x54
RSH32_K = 0x74
MOV32_K = 0xB4
MOV32_X = 0xBC
JNE_K = 0x55
JNE_X = 0x5D
EXIT = 0x95

DEV_BLOCK, DEV_CHAR = 1, 2
ACCESS_BITS = {"m": 1, "r": 2, "w": 4}
ALL_ACCESS = 7
NEXT = "next"  # a jump to the start of the next block


def _insn(op: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    return struct.pack("<BBhi", op, (src << 4) | dst, off, imm)


def access_mask(access: str | None) -> int:
    """`rwm` -> the BPF_DEVCG_ACC_* bits. Raises ValueError on other letters."""
    mask = 0
    for letter in access or "rwm":
        if letter not in ACCESS_BITS:
            raise ValueError(f"unknown device access {letter!r}")
        mask |= ACCESS_BITS[letter]
    return mask


def _is_wildcard(rule: dict[str, Any]) -> bool:
    return (
        (rule.get("type") or "a") == "a"
        and rule.get("major") is None
        and rule.get("minor") is None
        and access_mask(rule.get("access")) == ALL_ACCESS
    )


def _block(rule: dict[str, Any]) -> list[tuple]:
    """One rule's checks as (op, dst, src, off, imm) with NEXT in place of jump offsets."""
    checks: list[tuple] = []
    kind = rule.get("type") or "a"
    if kind != "a":
        checks.append((JNE_K, 2, 0, NEXT, DEV_BLOCK if kind == "b" else DEV_CHAR))
    access = access_mask(rule.get("access"))
    if access != ALL_ACCESS:
        checks += [(MOV32_X, 1, 3, 0, 0), (AND32_K, 1, 0, 0, access), (JNE_X, 1, 3, NEXT, 0)]
    if rule.get("major") is not None:
        checks.append((JNE_K, 4, 0, NEXT, int(rule["major"])))
    if rule.get("minor") is not None:
        checks.append((JNE_K, 5, 0, NEXT, int(rule["minor"])))
    return [*checks, (MOV32_K, 0, 0, 0, 1 if rule.get("allow") else 0), (EXIT, 0, 0, 0, 0)]


def assemble(rules: list[dict[str, Any]]) -> bytes:
    """The program for OCI `linux.resources.devices` rules. Pure."""
    code = [
        _insn(LDX_W, 2, 1, 0),
        _insn(AND32_K, 2, imm=0xFFFF),
        _insn(LDX_W, 3, 1, 0),
        _insn(RSH32_K, 3, imm=16),
        _insn(LDX_W, 4, 1, 4),
        _insn(LDX_W, 5, 1, 8),
    ]
    default = False
    for rule in reversed(rules):
        if _is_wildcard(rule):
            default = bool(rule.get("allow"))
            break
        block = _block(rule)
        for index, (op, dst, src, off, imm) in enumerate(block):
            code.append(_insn(op, dst, src, len(block) - index - 1 if off == NEXT else off, imm))
    code += [_insn(MOV32_K, 0, imm=1 if default else 0), _insn(EXIT)]
    return b"".join(code)


_preloaded: dict[bytes, int] = {}  # program code -> fd of that program, loaded by preload()


def preload(rules: list[dict[str, Any]]) -> None:
    """Load the program for `rules` now and keep its fd (CLOEXEC): `attach` in this process
    and in those forked from it (the shim fork-server's shims) then skips the verifier,
    about 1.5-2 ms per container. Raises OSError if the kernel refuses it."""
    code = assemble(rules)
    if code not in _preloaded:
        _preloaded[code] = sc.bpf_prog_load_device(code)


def attach(cgroup_path: str, rules: list[dict[str, Any]]) -> None:
    """Attach the program for `rules` (the preloaded one, else loaded now) to the v2 cgroup at
    `cgroup_path`."""
    code = assemble(rules)
    program = _preloaded.get(code)
    loaded = sc.bpf_prog_load_device(code) if program is None else -1
    try:
        cgroup = os.open(cgroup_path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            sc.bpf_prog_attach_device(program if loaded < 0 else loaded, cgroup)
        finally:
            os.close(cgroup)
    finally:
        if loaded >= 0:
            os.close(loaded)

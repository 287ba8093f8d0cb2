"""The compiled seccomp program: a binary tree that decides exactly as libseccomp's default order.

The programs are run by a small classic-BPF interpreter over `struct seccomp_data` (nr, arch,
instruction pointer, six 64-bit arguments), so no filter is loaded here: no root needed,
only libseccomp and an x86_64 machine (the architecture numbers below are that machine's).
"""

import ctypes.util
import os
import struct

import pytest

from dockyard.runtime import default_profile, seccomp
from dockyard.runtime import syscalls as sc
from dockyard.runtime.capabilities import DEFAULT_CAPABILITIES

pytestmark = [
    pytest.mark.skipif(os.uname().machine != "x86_64", reason="x86_64 audit architectures"),
    pytest.mark.skipif(ctypes.util.find_library("seccomp") is None, reason="needs libseccomp"),
]

AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, X32_BIT = 0xC000003E, 0x40000003, 0x40000000
CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000
PER_LINUX32, PER_BSD = 0x8, 0x6


def run(program: bytes, nr: int, arch: int = AUDIT_ARCH_X86_64, args: tuple[int, ...] = ()) -> tuple[int, int]:
    """(return value, instructions executed) of a classic BPF seccomp program for one syscall."""
    data = struct.pack("<iIQ6Q", nr, arch, 0, *(list(args) + [0] * 6)[:6])
    a = x = 0
    memory = [0] * 16
    pc = steps = 0
    while True:
        code, jt, jf, k = struct.unpack_from("<HBBI", program, pc * 8)
        pc, steps = pc + 1, steps + 1
        if code == 0x20:  # A = data[k] (32 bits)
            a = struct.unpack_from("<I", data, k)[0]
        elif code == 0x00:  # A = k
            a = k
        elif code == 0x60:  # A = M[k]
            a = memory[k]
        elif code == 0x02:  # M[k] = A
            memory[k] = a
        elif code == 0x54:  # A &= k
            a &= k
        elif code == 0x05:  # jump always
            pc += k
        elif code in (0x15, 0x25, 0x35, 0x45):  # jeq, jgt, jge, jset with k
            taken = {0x15: a == k, 0x25: a > k, 0x35: a >= k, 0x45: bool(a & k)}[code]
            pc += jt if taken else jf
        elif code == 0x06:  # return k
            return k, steps
        else:
            raise AssertionError(f"opcode {code:#x} not known to this interpreter")
        assert x == 0


def _profile(caps: list[str]) -> dict:
    return seccomp.oci_profile(default_profile.profile(), caps, arch="amd64", kernel="6.1.0")


def _default_order(profile: dict) -> bytes:
    """The same profile compiled as before: libseccomp's default (optimize level 1) order."""
    default = seccomp.action_value(profile["defaultAction"], profile.get("defaultErrnoRet"))
    rules = [
        (name, seccomp.action_value(rule["action"], rule.get("errnoRet")), seccomp.conditions(rule.get("args") or []))
        for rule in profile["syscalls"]
        if seccomp.action_value(rule["action"], rule.get("errnoRet")) != default
        for name in rule["names"]
    ]
    arches = [a.removeprefix("SCMP_ARCH_").lower() for a in profile["architectures"]]
    return sc.seccomp_compile(default, arches, rules)


def _cases():
    """(nr, arch, args) for every syscall number of the three x86 ABIs, and the argument rules."""
    for nr in range(0, 470):
        yield nr, AUDIT_ARCH_X86_64, ()
        yield nr | X32_BIT, AUDIT_ARCH_X86_64, ()
        yield nr, AUDIT_ARCH_I386, ()
    socket_, personality, clone = 41, 135, 56
    for family in range(0, 48):
        yield socket_, AUDIT_ARCH_X86_64, (family,)
    for persona in (0, PER_LINUX32, PER_BSD, 0x20000, 0x20008, 0xFFFFFFFF, 0x1_0000_0000):
        yield personality, AUDIT_ARCH_X86_64, (persona,)
    for flags in (0, 0x11, CLONE_NEWNS, CLONE_NEWUSER | 0x11, 0x1_0000_0000):
        yield clone, AUDIT_ARCH_X86_64, (flags,)
    yield 0, 0xDEAD, ()  # an architecture not in the filter


@pytest.mark.parametrize("caps", [list(DEFAULT_CAPABILITIES), [*DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"]])
def test_binary_tree_decides_every_syscall_as_the_default_order(caps):
    profile = _profile(caps)
    tree, listed = seccomp.compile_profile(profile), _default_order(profile)
    assert tree != listed
    for nr, arch, args in _cases():
        assert run(tree, nr, arch, args)[0] == run(listed, nr, arch, args)[0], (nr, arch, args)


def test_the_program_finds_any_syscall_in_a_few_dozen_steps():
    """A walk down the list takes hundreds of instructions for the busiest syscalls."""
    profile = _profile(list(DEFAULT_CAPABILITIES))
    tree, listed = seccomp.compile_profile(profile), _default_order(profile)
    futex, openat = 202, 257
    assert run(listed, futex)[1] > 100 and run(listed, openat)[1] > 100
    native = [run(tree, nr, AUDIT_ARCH_X86_64, args)[1] for nr, arch, args in _cases() if arch == AUDIT_ARCH_X86_64]
    assert max(native) <= 32, max(native)
    assert run(tree, futex)[0] == seccomp.ACTIONS["SCMP_ACT_ALLOW"]
    assert run(tree, 272)[0] == seccomp.ACTIONS["SCMP_ACT_ERRNO"] | 1  # unshare: EPERM

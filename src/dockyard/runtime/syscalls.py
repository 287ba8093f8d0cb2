"""ctypes wrappers over the libc calls Python lacks (through the one handle in dockyard.libc),
and over libseccomp (loaded only when a profile is applied).

Every wrapper raises OSError(errno, strerror) on failure, like the os module does.
"""

from __future__ import annotations

import ctypes
import errno
import os

from dockyard.libc import LIBC, check

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_INTO_CGROUP = 0x200000000

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_SYNCHRONOUS = 0x10
MS_REMOUNT = 0x20
MS_MANDLOCK = 0x40
MS_DIRSYNC = 0x80
MS_NOATIME = 0x400
MS_NODIRATIME = 0x800
MS_BIND = 0x1000
MS_REC = 0x4000
MS_UNBINDABLE = 1 << 17
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_SHARED = 1 << 20
MS_RELATIME = 1 << 21
MS_STRICTATIME = 1 << 24

MNT_DETACH = 0x2

PR_SET_PDEATHSIG = 1
PR_SET_KEEPCAPS = 8
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38

_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}
_SYS_CLONE3 = 435  # the same number on every architecture
_SIGCHLD = 17
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


def _b(value: str | None) -> bytes | None:
    return None if value is None else os.fsencode(value)


def unshare(flags: int) -> None:
    """Move the caller into new namespaces (CLONE_NEW* flags)."""
    check(LIBC.unshare(ctypes.c_int(flags)))


def setns(fd: int, nstype: int = 0) -> None:
    """Join the namespace that `fd` (an open /proc/<pid>/ns/<kind>) names."""
    check(LIBC.setns(ctypes.c_int(fd), ctypes.c_int(nstype)))


def mount(source: str | None, target: str, fstype: str | None, flags: int = 0, data: str | None = None) -> None:
    """mount(2); raises OSError naming the target."""
    result = LIBC.mount(_b(source), _b(target), _b(fstype), ctypes.c_ulong(flags), _b(data))
    if result == -1:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), target)


def umount2(target: str, flags: int = 0) -> None:
    """umount2(2)."""
    check(LIBC.umount2(_b(target), ctypes.c_int(flags)))


def pivot_root(new_root: str, put_old: str) -> None:
    """pivot_root(2), through syscall() since glibc has no wrapper."""
    number = _SYS_PIVOT_ROOT[os.uname().machine]
    check(LIBC.syscall(ctypes.c_long(number), _b(new_root), _b(put_old)))


class _CloneArgs(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_uint64)
        for name in (
            "flags",
            "pidfd",
            "child_tid",
            "parent_tid",
            "exit_signal",
            "stack",
            "stack_size",
            "tls",
            "set_tid",
            "set_tid_size",
            "cgroup",
        )
    ]


def fork_into_cgroup(cgroup_fd: int) -> int:
    """fork(), the child starting in the cgroup v2 directory `cgroup_fd` (clone3 CLONE_INTO_CGROUP).

    The child is never migrated, so it skips the kernel's threadgroup lock (see
    cgroups/hierarchy.join). It also skips Python's and glibc's after-fork handlers: only a
    single-threaded caller whose child ends in exec or os._exit may use it.
    """
    args = _CloneArgs(flags=CLONE_INTO_CGROUP, exit_signal=_SIGCHLD, cgroup=cgroup_fd)
    return check(LIBC.syscall(ctypes.c_long(_SYS_CLONE3), ctypes.byref(args), ctypes.c_size_t(ctypes.sizeof(args))))


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    """prctl(2) with integer arguments."""
    args = (ctypes.c_ulong(a) for a in (arg2, arg3, arg4, arg5))
    return check(LIBC.prctl(ctypes.c_int(option), *args))


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def capset(effective: int, permitted: int, inheritable: int) -> None:
    """Set the calling thread's capability masks (64-bit masks)."""
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    for i in (0, 1):
        shift = 32 * i
        data[i].effective = (effective >> shift) & 0xFFFFFFFF
        data[i].permitted = (permitted >> shift) & 0xFFFFFFFF
        data[i].inheritable = (inheritable >> shift) & 0xFFFFFFFF
    check(LIBC.capset(ctypes.byref(header), data))


class _ArgCmp(ctypes.Structure):
    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


_SCMP_FLTATR_CTL_NNP = 3
_libseccomp = None


def preload_seccomp() -> None:
    """Load libseccomp now, from the host, before pivot_root hides the host's libraries."""
    _seccomp_lib()


def _seccomp_lib() -> ctypes.CDLL:
    global _libseccomp
    if _libseccomp is None:
        lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
        lib.seccomp_init.restype = ctypes.c_void_p
        lib.seccomp_init.argtypes = [ctypes.c_uint32]
        for name in ("seccomp_arch_add", "seccomp_load", "seccomp_attr_set", "seccomp_rule_add_array"):
            getattr(lib, name).restype = ctypes.c_int
        lib.seccomp_arch_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
        lib.seccomp_arch_resolve_name.restype = ctypes.c_uint32
        lib.seccomp_attr_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32]
        lib.seccomp_rule_add_array.argtypes = [
            ctypes.c_void_p,
            ctypes.c_uint32,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.POINTER(_ArgCmp),
        ]
        lib.seccomp_load.argtypes = [ctypes.c_void_p]
        lib.seccomp_release.argtypes = [ctypes.c_void_p]
        _libseccomp = lib
    return _libseccomp


def _scmpcheck(result: int, what: str) -> None:
    if result < 0:
        raise OSError(-result, f"seccomp: {what}: {os.strerror(-result)}")


def seccomp_load(
    default_action: int, arches: list[str], rules: list[tuple[str, int, list[tuple[int, int, int, int]]]]
) -> None:
    """Build a filter with libseccomp (arches by name, rules as (syscall, action, conditions))
    and load it without forcing no_new_privs; unknown syscall names are skipped, as runc does."""
    lib = _seccomp_lib()
    ctx = lib.seccomp_init(default_action)
    if not ctx:
        raise OSError(errno.EINVAL, "seccomp: cannot initialise filter")
    try:
        _scmpcheck(lib.seccomp_attr_set(ctx, _SCMP_FLTATR_CTL_NNP, 0), "no_new_privs attribute")
        for arch in arches:
            token = lib.seccomp_arch_resolve_name(arch.encode())
            if token and lib.seccomp_arch_add(ctx, token) not in (0, -errno.EEXIST):
                raise OSError(errno.EINVAL, f"seccomp: cannot add architecture {arch}")
        for name, action, conds in rules:
            number = lib.seccomp_syscall_resolve_name(name.encode())
            if number < 0:
                continue
            array = (_ArgCmp * max(len(conds), 1))(*[_ArgCmp(*c) for c in conds])
            _scmpcheck(lib.seccomp_rule_add_array(ctx, action, number, len(conds), array), name)
        _scmpcheck(lib.seccomp_load(ctx), "load")
    finally:
        lib.seccomp_release(ctx)

"""ctypes wrappers over the libc calls Python lacks (through the one handle in dockyard.libc),
and over libseccomp (loaded only when a profile is compiled).

Every wrapper raises OSError(errno, strerror) on failure, like the os module does.
"""

from __future__ import annotations

import ctypes
import errno
import os
import select
import struct

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
MS_MOVE = 0x2000
MS_REC = 0x4000
MS_UNBINDABLE = 1 << 17
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_SHARED = 1 << 20
MS_RELATIME = 1 << 21
MS_STRICTATIME = 1 << 24

MNT_DETACH = 0x2

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_KEEPCAPS = 8
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38

MADV_POPULATE_WRITE = 23  # Linux 5.14
POPULATE_CHUNK = 1 << 21  # bytes populated between two looks at the stop fd (~0.3 ms here)

_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}
_SYS_CLONE3 = 435  # the same number on every architecture
_SYS_OPENAT2 = 437  # likewise
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_IN_ROOT = 0x10
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


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


def openat2(dir_fd: int, path: str, flags: int, resolve: int) -> int:
    """openat2(2) (Linux 5.6): `path` opened from `dir_fd` under the RESOLVE_* rules; an fd."""
    how = _OpenHow(flags | os.O_CLOEXEC, 0, resolve)
    result = LIBC.syscall(
        ctypes.c_long(_SYS_OPENAT2), ctypes.c_int(dir_fd), _b(path), ctypes.byref(how), ctypes.c_size_t(24)
    )
    if result == -1:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), path)
    return result


def pivot_root(new_root: str, put_old: str) -> None:
    """pivot_root(2), through syscall() since glibc has no wrapper."""
    number = _SYS_PIVOT_ROOT[os.uname().machine]
    check(LIBC.syscall(ctypes.c_long(number), _b(new_root), _b(put_old)))


_SYS_OPEN_TREE, _SYS_MOVE_MOUNT = 428, 429  # the same number on every architecture
OPEN_TREE_CLONE, AT_RECURSIVE, MOVE_MOUNT_F_EMPTY_PATH = 0x1, 0x8000, 0x4
_AT_FDCWD = -100


def open_tree_clone(path: str) -> int:
    """A detached copy of the mount tree at `path` (open_tree OPEN_TREE_CLONE|AT_RECURSIVE), as an fd."""
    flags = OPEN_TREE_CLONE | AT_RECURSIVE | os.O_CLOEXEC
    return check(LIBC.syscall(ctypes.c_long(_SYS_OPEN_TREE), _AT_FDCWD, _b(path), ctypes.c_uint(flags)))


_SYS_MOUNT_SETATTR = 442  # the same number on every architecture
MOUNT_ATTR_RDONLY = 0x1


def make_readonly_recursive(path: str) -> None:
    """mount_setattr(AT_RECURSIVE, MOUNT_ATTR_RDONLY): the mount at `path` and every mount
    below it read-only (Linux 5.12; the OCI spec's `rro`)."""
    attr = (ctypes.c_uint64 * 4)(MOUNT_ATTR_RDONLY, 0, 0, 0)  # attr_set, attr_clr, propagation, userns_fd
    args = (_AT_FDCWD, _b(path), ctypes.c_uint(AT_RECURSIVE), ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)))
    check(LIBC.syscall(ctypes.c_long(_SYS_MOUNT_SETATTR), *args))


def move_mount_fd(tree_fd: int, target: str) -> None:
    """Attach a detached mount tree (from open_tree_clone) at `target`."""
    args = (ctypes.c_int(tree_fd), b"", _AT_FDCWD, _b(target), ctypes.c_uint(MOVE_MOUNT_F_EMPTY_PATH))
    check(LIBC.syscall(ctypes.c_long(_SYS_MOVE_MOUNT), *args))


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


def fork_into_cgroup(cgroup_fd: int | None, namespaces: int = 0) -> int:
    """fork(), the child starting in the cgroup v2 directory `cgroup_fd` (clone3 CLONE_INTO_CGROUP),
    if one is given, and in new namespaces for the CLONE_NEW* flags in `namespaces`.

    The child is never migrated, so it skips the kernel's threadgroup lock (see
    cgroups/hierarchy.join). It also skips Python's and glibc's after-fork handlers: only a
    single-threaded caller whose child ends in exec or os._exit may use it.
    """
    flags = namespaces | (CLONE_INTO_CGROUP if cgroup_fd is not None else 0)
    args = _CloneArgs(flags=flags, exit_signal=_SIGCHLD, cgroup=cgroup_fd or 0)
    return check(LIBC.syscall(ctypes.c_long(_SYS_CLONE3), ctypes.byref(args), ctypes.c_size_t(ctypes.sizeof(args))))


def populate_private_memory(stop_fd: int) -> None:
    """Take now the copy-on-write faults a forked child would take on first writing each page
    it shares with its parent: MADV_POPULATE_WRITE over every private writable mapping, in
    POPULATE_CHUNK steps, until `stop_fd` is readable (asked between steps). A range the
    kernel refuses is skipped (every one, before 5.14): this only saves time later."""
    with open("/proc/self/maps", "rb") as f:
        maps = f.read().splitlines()
    waiting = select.poll()
    waiting.register(stop_fd, select.POLLIN)
    for line in maps:
        fields = line.split(maxsplit=2)
        if fields[1] != b"rw-p":
            continue
        low, high = (int(end, 16) for end in fields[0].split(b"-"))
        for start in range(low, high, POPULATE_CHUNK):
            if waiting.poll(0):
                return
            length = min(POPULATE_CHUNK, high - start)
            LIBC.madvise(ctypes.c_void_p(start), ctypes.c_size_t(length), MADV_POPULATE_WRITE)


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
_SCMP_FLTATR_CTL_OPTIMIZE = 8
_libseccomp = None


def _seccomp_lib() -> ctypes.CDLL:
    global _libseccomp
    if _libseccomp is None:
        lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
        lib.seccomp_init.restype = ctypes.c_void_p
        lib.seccomp_init.argtypes = [ctypes.c_uint32]
        for name in ("seccomp_arch_add", "seccomp_export_bpf", "seccomp_attr_set", "seccomp_rule_add_array"):
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
        lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lib.seccomp_release.argtypes = [ctypes.c_void_p]
        _libseccomp = lib
    return _libseccomp


def _scmp_check(result: int, what: str) -> None:
    if result < 0:
        raise OSError(-result, f"seccomp: {what}: {os.strerror(-result)}")


def seccomp_compile(
    default_action: int,
    arches: list[str],
    rules: list[tuple[str, int, list[tuple[int, int, int, int]]]],
    optimize: int = 0,
) -> bytes:
    """Build a filter with libseccomp (arches by name, rules as (syscall, action, conditions),
    `optimize` its SCMP_FLTATR_CTL_OPTIMIZE level, 0 for its default) and return its classic
    BPF program; unknown syscall names are skipped, as runc does."""
    lib = _seccomp_lib()
    ctx = lib.seccomp_init(default_action)
    if not ctx:
        raise OSError(errno.EINVAL, "seccomp: cannot initialise filter")
    out = os.memfd_create("seccomp-bpf", os.MFD_CLOEXEC)
    try:
        _scmp_check(lib.seccomp_attr_set(ctx, _SCMP_FLTATR_CTL_NNP, 0), "no_new_privs attribute")
        if optimize:  # libseccomp before 2.5 refuses it and keeps its default order, as correct
            lib.seccomp_attr_set(ctx, _SCMP_FLTATR_CTL_OPTIMIZE, optimize)
        for arch in arches:
            token = lib.seccomp_arch_resolve_name(arch.encode())
            if token and lib.seccomp_arch_add(ctx, token) not in (0, -errno.EEXIST):
                raise OSError(errno.EINVAL, f"seccomp: cannot add architecture {arch}")
        for name, action, conds in rules:
            number = lib.seccomp_syscall_resolve_name(name.encode())
            if number < 0:
                continue
            array = (_ArgCmp * max(len(conds), 1))(*[_ArgCmp(*c) for c in conds])
            _scmp_check(lib.seccomp_rule_add_array(ctx, action, number, len(conds), array), name)
        _scmp_check(lib.seccomp_export_bpf(ctx, out), "export")
        return os.pread(out, os.fstat(out).st_size, 0)
    finally:
        os.close(out)
        lib.seccomp_release(ctx)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 22, 2


def seccomp_install(program: bytes) -> None:
    """Load a classic BPF seccomp program (8 bytes per instruction) into the calling thread.

    Needs no_new_privs or CAP_SYS_ADMIN, and no library: it works after pivot_root."""
    code = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.addressof(code))
    prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(fprog))


_SYS_BPF = {"x86_64": 321, "aarch64": 280, "riscv64": 280, "ppc64le": 361, "s390x": 351}
_BPF_PROG_LOAD, _BPF_PROG_ATTACH = 5, 8
_BPF_PROG_TYPE_CGROUP_DEVICE, _BPF_CGROUP_DEVICE, _BPF_F_ALLOW_MULTI = 15, 6, 2
_BPF_ATTR_SIZE = 128  # zero-filled past the fields we set, as the kernel demands


def _bpf(command: int, attr: ctypes.Array) -> int:
    number = _SYS_BPF[os.uname().machine]
    return check(LIBC.syscall(ctypes.c_long(number), ctypes.c_int(command), attr, ctypes.c_uint(len(attr))))


def bpf_prog_load_device(code: bytes) -> int:
    """Load eBPF bytecode as a BPF_PROG_TYPE_CGROUP_DEVICE program; returns its fd (CLOEXEC).

    On refusal it loads again with the verifier's log (costly, so not the first time) and
    puts the log in the OSError's message."""
    try:
        return _bpf(_BPF_PROG_LOAD, _prog_load_attr(code, None)[0])
    except OSError:
        attr, log, _keep = _prog_load_attr(code, ctypes.create_string_buffer(16384))
        try:
            return _bpf(_BPF_PROG_LOAD, attr)
        except OSError as exc:
            raise OSError(exc.errno, f"bpf: loading the device program: {exc.strerror}: {log.value.decode()}") from None


def _prog_load_attr(code: bytes, log: ctypes.Array | None) -> tuple[ctypes.Array, ctypes.Array | None, tuple]:
    """union bpf_attr for BPF_PROG_LOAD, and the buffers it points into (kept alive by the caller)."""
    insns = ctypes.create_string_buffer(code, len(code))
    license_ = ctypes.create_string_buffer(b"Apache")
    attr = ctypes.create_string_buffer(_BPF_ATTR_SIZE)
    struct.pack_into(
        "<IIQQIIQII16sII",
        attr,
        0,
        _BPF_PROG_TYPE_CGROUP_DEVICE,
        len(code) // 8,
        ctypes.addressof(insns),
        ctypes.addressof(license_),
        1 if log is not None else 0,  # log_level
        len(log) if log is not None else 0,
        ctypes.addressof(log) if log is not None else 0,
        0,
        0,
        b"dockyard_dev",
        0,
        _BPF_CGROUP_DEVICE,
    )
    return attr, log, (insns, license_)


def bpf_prog_attach_device(program_fd: int, cgroup_fd: int) -> None:
    """Attach a device program to a cgroup v2 directory, beside any already there."""
    attr = ctypes.create_string_buffer(_BPF_ATTR_SIZE)
    struct.pack_into("<IIII", attr, 0, cgroup_fd, program_fd, _BPF_CGROUP_DEVICE, _BPF_F_ALLOW_MULTI)
    _bpf(_BPF_PROG_ATTACH, attr)

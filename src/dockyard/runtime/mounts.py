"""The container's filesystem view: spec mounts under the rootfs, /dev, pivot_root, masks.

Runs in the init child, inside its new mount namespace. Option parsing is pure.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections import namedtuple

from dockyard.runtime import spec as oci
from dockyard.runtime import syscalls as sc
from dockyard.runtime.cgroups.hierarchy import Hierarchy
from dockyard.runtime.rootpath import resolve_in_root

TYPE_CHECKING = False  # typing costs the shim milliseconds at start-up
if TYPE_CHECKING:
    from typing import Any

_SET = {
    "ro": sc.MS_RDONLY,
    "nosuid": sc.MS_NOSUID,
    "nodev": sc.MS_NODEV,
    "noexec": sc.MS_NOEXEC,
    "sync": sc.MS_SYNCHRONOUS,
    "dirsync": sc.MS_DIRSYNC,
    "mand": sc.MS_MANDLOCK,
    "noatime": sc.MS_NOATIME,
    "nodiratime": sc.MS_NODIRATIME,
    "relatime": sc.MS_RELATIME,
    "strictatime": sc.MS_STRICTATIME,
    "remount": sc.MS_REMOUNT,
    "bind": sc.MS_BIND,
    "rbind": sc.MS_BIND | sc.MS_REC,
}
_CLEAR = {
    "rw": sc.MS_RDONLY,
    "suid": sc.MS_NOSUID,
    "dev": sc.MS_NODEV,
    "exec": sc.MS_NOEXEC,
    "async": sc.MS_SYNCHRONOUS,
    "nomand": sc.MS_MANDLOCK,
    "atime": sc.MS_NOATIME,
    "diratime": sc.MS_NODIRATIME,
    "norelatime": sc.MS_RELATIME,
    "nostrictatime": sc.MS_STRICTATIME,
}
_PROPAGATION = {
    "private": sc.MS_PRIVATE,
    "rprivate": sc.MS_PRIVATE | sc.MS_REC,
    "shared": sc.MS_SHARED,
    "rshared": sc.MS_SHARED | sc.MS_REC,
    "slave": sc.MS_SLAVE,
    "rslave": sc.MS_SLAVE | sc.MS_REC,
    "unbindable": sc.MS_UNBINDABLE,
    "runbindable": sc.MS_UNBINDABLE | sc.MS_REC,
}

SYSTEM_MOUNTS = ("/proc", "/dev", "/sys")  # what stage_system_mounts() makes ahead, each with its mounts below

# (name, major, minor): the devices every container gets (runc's AllowedDevices).
STANDARD_DEVICES = (("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0))
STANDARD_LINKS = (
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
    ("ptmx", "pts/ptmx"),
    ("core", "/proc/kcore"),
)


class MountOptions(namedtuple("MountOptions", "flags propagation data")):
    """An OCI options list split into mount(2) flags (int), propagation flags (int), fs data (str)."""

    __slots__ = ()

    @property
    def is_bind(self) -> bool:
        return bool(self.flags & sc.MS_BIND)


def parse_options(options: list[str]) -> MountOptions:
    """Split OCI mount options; unknown words go to the filesystem as data."""
    flags, propagation, data = 0, 0, []
    for option in options:
        if option in _SET:
            flags |= _SET[option]
        elif option in _CLEAR:
            flags &= ~_CLEAR[option]
        elif option in _PROPAGATION:
            propagation |= _PROPAGATION[option]
        else:
            data.append(option)
    return MountOptions(flags, propagation, ",".join(data))


def _make_target(target: str, source: str | None, is_bind: bool) -> None:
    if is_bind and source is not None and not os.path.isdir(source):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.lexists(target):
            os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
        return
    os.makedirs(target, exist_ok=True)


def mount_one(root: str, entry: dict[str, Any], hierarchies: list[Hierarchy]) -> None:
    """Perform one spec mount under `root`, the destination resolved inside it; `rro` makes
    a bind and every mount below it read-only; a `cgroup` one mounts `hierarchies`."""
    words = list(entry.get("options", []))
    recursive_ro = "rro" in words
    opts = parse_options([("ro" if w == "rro" else w) for w in words])
    fstype = entry.get("type") or ""
    source = entry.get("source")
    is_bind = opts.is_bind or fstype == "bind"
    target = resolve_in_root(root, entry["destination"])
    _make_target(target, source, is_bind)
    if fstype == "cgroup":
        mount_cgroups(target, opts.flags, hierarchies)
    elif is_bind:
        _bind(source or "", target, opts.flags | sc.MS_BIND)
    else:
        _mount_fs(source, target, fstype, opts)
    if opts.propagation:
        sc.mount(None, target, None, opts.propagation)
    if recursive_ro:
        sc.make_readonly_recursive(target)


def _bind(source: str, target: str, flags: int) -> None:
    if not os.path.exists(source):
        raise OSError(errno.ENOENT, f"bind source path does not exist: {source}")
    foreign = _FOREIGN.match(source)
    if foreign:
        _bind_foreign(int(foreign.group(1)), foreign.group(2), target)
    else:
        sc.mount(source, target, None, sc.MS_BIND | (flags & sc.MS_REC))
    extra = flags & ~(sc.MS_BIND | sc.MS_REC | sc.MS_REMOUNT)
    if extra:
        sc.mount(None, target, None, sc.MS_BIND | sc.MS_REMOUNT | extra)


_FOREIGN = re.compile(r"^/proc/(\d+)/root(/.*)$")


def _bind_foreign(pid: int, inner: str, target: str) -> None:
    """Bind `inner` as process `pid` sees it (another container's /dev/shm for --ipc
    container:<id>). mount(2) cannot bind from another mount namespace, so: enter pid's, clone
    the tree there (open_tree), come back, attach the clone (move_mount). Single-threaded only."""
    ours = os.open("/proc/self/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
    theirs = os.open(f"/proc/{pid}/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
    cwd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        sc.setns(theirs, sc.CLONE_NEWNS)
        try:
            tree = sc.open_tree_clone(inner)
        finally:
            sc.setns(ours, sc.CLONE_NEWNS)
            os.fchdir(cwd)
        try:
            sc.move_mount_fd(tree, target)
        finally:
            os.close(tree)
    finally:
        for fd in (ours, theirs, cwd):
            os.close(fd)


def _mount_fs(source: str | None, target: str, fstype: str, opts: MountOptions) -> None:
    try:
        sc.mount(source, target, fstype, opts.flags, opts.data or None)
    except PermissionError:
        if fstype != "sysfs":
            raise
        _bind("/sys", target, opts.flags | sc.MS_REC)  # host network namespace: reuse /sys


def mount_cgroups(target: str, flags: int, hierarchies: list[Hierarchy]) -> None:
    """A tmpfs with one mount per hierarchy of the host (v1 controllers and the v2 unified)."""
    sc.mount("tmpfs", target, "tmpfs", flags & ~sc.MS_RDONLY, "mode=755")
    for h in hierarchies:
        path = os.path.join(target, os.path.basename(h.path))
        try:
            os.mkdir(path)  # in the fresh tmpfs: no parent to make
        except FileExistsError:  # two hierarchies of one name: the host's own mount table says so
            pass
        fstype, options = ("cgroup", ",".join(h.controllers)) if h.version == 1 else ("cgroup2", "")
        sc.mount("cgroup", path, fstype, flags, options or None)
    if flags & sc.MS_RDONLY:
        sc.mount(None, target, None, sc.MS_REMOUNT | flags, "mode=755")


def make_devices(dev: str, extra: list[dict[str, Any]]) -> None:
    """Create the standard device nodes and links in a fresh /dev tmpfs, plus spec devices."""
    old = os.umask(0)
    try:
        for name, major, minor in STANDARD_DEVICES:
            _mknod(os.path.join(dev, name), stat.S_IFCHR | 0o666, major, minor, 0, 0)
        for device in extra:
            kind = stat.S_IFBLK if device.get("type") == "b" else stat.S_IFCHR
            path = resolve_in_root(dev, device["path"].removeprefix("/dev"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            _mknod(
                path,
                kind | device.get("fileMode", 0o666),
                device["major"],
                device["minor"],
                device.get("uid", 0),
                device.get("gid", 0),
            )
    finally:
        os.umask(old)
    for name, target in STANDARD_LINKS:
        if not os.path.lexists(os.path.join(dev, name)):
            os.symlink(target, os.path.join(dev, name))


def _mknod(path: str, mode: int, major: int, minor: int, uid: int, gid: int) -> None:
    if os.path.lexists(path):
        os.unlink(path)
    os.mknod(path, mode, os.makedev(major, minor))
    os.chown(path, uid, gid)


def pivot_into(root: str) -> None:
    """Make `root` the process's / and detach the old root (runc's pivot_root(".", ".") trick)."""
    os.chdir(root)
    sc.pivot_root(".", ".")
    sc.umount2(".", sc.MNT_DETACH)
    os.chdir("/")


def mask_paths(paths: list[str], null: str = "/dev/null") -> None:
    """Hide each path: a read-only tmpfs over directories, `null` (the container's /dev/null)
    over files; one this kernel has not is skipped without a mount(2) that would fail."""
    for path in paths:
        try:
            if stat.S_ISDIR(os.stat(path).st_mode):
                sc.mount("tmpfs", path, "tmpfs", sc.MS_RDONLY)
            else:
                sc.mount(null, path, None, sc.MS_BIND)
        except FileNotFoundError:
            continue


def readonly_paths(paths: list[str]) -> None:
    """Bind each existing path onto itself read-only."""
    for path in paths:
        try:
            sc.mount(path, path, None, sc.MS_BIND | sc.MS_REC)
        except FileNotFoundError:
            continue
        sc.mount(None, path, None, sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY | sc.MS_REC)


def write_sysctls(sysctls: dict[str, str]) -> None:
    """`net.ipv4.ip_forward=1` -> /proc/sys/net/ipv4/ip_forward, before /proc/sys goes read-only."""
    for key, value in sysctls.items():
        if "/" in key or ".." in key:
            raise ValueError(f"invalid sysctl {key!r}")
        with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
            f.write(str(value))


def stage_system_mounts(stage: str, hierarchies: list[Hierarchy]) -> None:
    """Docker's default /proc, /dev and /sys (runtime/spec.py), their masked and read-only
    paths applied, under `stage`: made ahead by a sandbox in a mount namespace of its own, for
    setup_rootfs() to move into a rootfs whose spec has exactly those (sandbox.fits_staged)."""
    for entry in oci.default_mounts():
        mount_one(stage, entry, hierarchies)
        if entry["destination"] == "/dev":
            make_devices(os.path.join(stage, "dev"), [])
    mask_paths([stage + path for path in oci.MASKED_PATHS], null=stage + "/dev/null")
    readonly_paths([stage + path for path in oci.READONLY_PATHS])


def below(destination: str, tops: tuple[str, ...]) -> bool:
    """Whether a container path is one of `tops` or under one."""
    return any(destination == top or destination.startswith(top + "/") for top in tops)


def setup_rootfs(
    spec: dict[str, Any], hierarchies: list[Hierarchy], staged: str | None = None, rootfs_fd: int | None = None
) -> None:
    """Everything between a fresh mount namespace and a pivoted, masked root; `hierarchies`
    are the host's cgroup mounts (hierarchy.discover). With `staged`, the directory where
    stage_system_mounts() made /proc, /dev and /sys ahead: those are moved in instead of made
    (and masked) again. `rootfs_fd`: the rootfs as a detached mount (open_tree), for a mount
    namespace copied before the rootfs was mounted."""
    root = os.path.abspath(spec["root"]["path"])
    linux = spec.get("linux", {})
    propagation = _PROPAGATION.get(linux.get("rootfsPropagation", ""), sc.MS_PRIVATE | sc.MS_REC)
    sc.mount(None, "/", None, sc.MS_REC | sc.MS_PRIVATE)
    if rootfs_fd is not None:
        sc.move_mount_fd(rootfs_fd, root)
        sc.mount(None, root, None, sc.MS_REC | sc.MS_PRIVATE)  # a clone of a shared mount is shared
    else:
        sc.mount(root, root, None, sc.MS_BIND | sc.MS_REC)
    for entry in spec.get("mounts", []):
        if staged is not None and below(entry["destination"], SYSTEM_MOUNTS):
            if entry["destination"] in SYSTEM_MOUNTS:  # with what is mounted below it
                target = resolve_in_root(root, entry["destination"])
                os.makedirs(target, exist_ok=True)
                sc.mount(staged + entry["destination"], target, None, sc.MS_MOVE)
            continue
        mount_one(root, entry, hierarchies)
        if entry["destination"] == "/dev" and entry.get("type") == "tmpfs":
            make_devices(os.path.join(root, "dev"), linux.get("devices", []))
    pivot_into(root)
    write_sysctls(linux.get("sysctl") or {})
    if staged is None:  # else masked and made read-only in the stage
        mask_paths(linux.get("maskedPaths", []))
        readonly_paths(linux.get("readonlyPaths", []))
    if spec["root"].get("readonly"):
        sc.mount(None, "/", None, sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY)
    if propagation != (sc.MS_PRIVATE | sc.MS_REC):
        sc.mount(None, "/", None, propagation)

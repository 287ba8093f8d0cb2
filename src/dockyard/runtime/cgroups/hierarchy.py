"""Find the cgroup hierarchies, make a task's cgroup in each, move processes, remove.

A task's cgroup is `<mount>/<cgroups_path>` (default `dockyard/<container-id>`) in every
hierarchy: each v1 controller mount and the v2 unified one. The mounts come from
/proc/self/mountinfo, or are passed in, so tests can point them at tmp_path.
"""

from __future__ import annotations

import errno
import os
import time
from collections import namedtuple


class Hierarchy(namedtuple("Hierarchy", "path version controllers")):
    """One mounted cgroup hierarchy: path (str), version (1 or 2), controllers (tuple of str)."""

    __slots__ = ()


def read_file(path: str) -> str:
    """A cgroup file's text: os.open and os.read, half the cost of open() on the start path."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return os.read(fd, 65536).decode()
    finally:
        os.close(fd)


def write_file(path: str, value: str) -> None:
    """Write a cgroup file in one write(2), as the kernel takes a value (open()'s "w" flags)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def parse_mountinfo(text: str) -> list[Hierarchy]:
    """The cgroup hierarchies listed in a /proc/self/mountinfo text. Pure."""
    found = []
    for line in text.splitlines():
        left, _, right = line.partition(" - ")
        fields = right.split()
        if len(fields) < 3 or fields[0] not in ("cgroup", "cgroup2"):
            continue
        mount_point = left.split()[4]
        if fields[0] == "cgroup2":
            found.append(Hierarchy(mount_point, 2, ()))
        else:
            names = tuple(o for o in fields[2].split(",") if o not in ("rw", "ro"))
            found.append(Hierarchy(mount_point, 1, names))
    return found


def discover() -> list[Hierarchy]:
    """The hierarchies mounted on this host, v2 controllers read from cgroup.controllers."""
    with open("/proc/self/mountinfo") as f:
        hierarchies = parse_mountinfo(f.read())
    result = []
    for h in hierarchies:
        if h.version == 2:
            with open(os.path.join(h.path, "cgroup.controllers")) as f:
                h = Hierarchy(h.path, 2, tuple(f.read().split()))
        result.append(h)
    return result


def _enable_v2(h: Hierarchy, relative: str) -> None:
    """Turn on this hierarchy's controllers in every ancestor of `relative` (v2 rule)."""
    if not h.controllers:
        return
    words = " ".join("+" + c for c in h.controllers)
    parts = relative.strip("/").split("/")
    for depth in range(len(parts)):
        write_file(os.path.join(h.path, *parts[:depth], "cgroup.subtree_control"), words)


def _inherit_cpuset(h: Hierarchy, relative: str) -> None:
    """v1 cpuset starts empty (joining fails with ENOSPC): copy cpus and mems downwards."""
    parts = relative.strip("/").split("/")
    for depth in range(1, len(parts) + 1):
        parent, child = os.path.join(h.path, *parts[: depth - 1]), os.path.join(h.path, *parts[:depth])
        for name in ("cpuset.cpus", "cpuset.mems"):
            if not read_file(os.path.join(child, name)).strip():
                write_file(os.path.join(child, name), read_file(os.path.join(parent, name)))


def create(hierarchies: list[Hierarchy], relative: str) -> list[str]:
    """Make the task's cgroup in every hierarchy; returns their paths."""
    paths = []
    for h in hierarchies:
        path = os.path.join(h.path, relative.strip("/"))
        os.makedirs(path, exist_ok=True)
        if h.version == 2:
            _enable_v2(h, relative)
        elif "cpuset" in h.controllers:
            _inherit_cpuset(h, relative)
        paths.append(path)
    return paths


def join(paths: list[str]) -> None:
    """Move the calling process, which must be single-threaded, into each cgroup.

    On v1 this writes to `tasks`: moving one thread skips the kernel's global threadgroup
    lock, whose synchronize_rcu costs 6-14 ms per task on this host. v2 has no `tasks`
    file and takes the lock through `cgroup.procs`, which is why the shim starts its child
    inside the v2 cgroup when it can (syscalls.fork_into_cgroup).
    """
    for path in paths:
        try:
            fd = os.open(os.path.join(path, "tasks"), os.O_WRONLY)
        except FileNotFoundError:
            fd = os.open(os.path.join(path, "cgroup.procs"), os.O_WRONLY)
        try:
            os.write(fd, b"0")
        finally:
            os.close(fd)


def unified(hierarchies: list[Hierarchy], paths: list[str]) -> str | None:
    """The one of `paths` inside the v2 hierarchy, if there is one. Pure."""
    roots = [h.path.rstrip("/") + "/" for h in hierarchies if h.version == 2]
    return next((p for p in paths for root in roots if (p.rstrip("/") + "/").startswith(root)), None)


def paths_of(pid: int, hierarchies: list[Hierarchy]) -> list[str]:
    """The cgroups process `pid` belongs to, as paths under the given hierarchies."""
    by_key: dict[str, str] = {}
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            by_key[controllers] = path
    result = []
    for h in hierarchies:
        key = "" if h.version == 2 else ",".join(h.controllers)
        if key in by_key:
            result.append(os.path.join(h.path, by_key[key].lstrip("/")))
    return result


def remove(paths: list[str], timeout: float = 2.0) -> None:
    """rmdir each cgroup, waiting briefly for dying processes to leave (EBUSY)."""
    deadline = time.monotonic() + timeout
    for path in paths:
        while True:
            try:
                os.rmdir(path)
                break
            except FileNotFoundError:
                break
            except OSError as exc:
                if exc.errno != errno.EBUSY or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

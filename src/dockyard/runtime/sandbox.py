"""A container's init made ahead of its task, while the daemon waits for the client's start.

The engine reserves the next container's ID and asks for its sandbox (Runtime.prepare); once
idle, the fork server hands that state dir to its spare shim, which makes the task's cgroups
(`dockyard/<container-id>` in every hierarchy) with Docker's default device rules, clones a
child into the v2 one and into fresh pid, uts, ipc and network namespaces, and the child
joins the v1 cgroups, copies the pages it shares with the shim (the set-up after its task
comes writes to many of them, and its exec frees them all) and waits. When the start comes,
the shim checks the task fits what was made ahead (`fits`), writes the limits and sends the
child the task and its fds; the child goes on as any init does (init.run_init, without
unsharing again). A task that does not fit, or no start at all, discards it: the child is
killed and the cgroups go.

Once in its cgroups the child also unshares its cgroup and mount namespaces and makes
Docker's /proc, /dev and /sys, masked, under STAGE there (mounts.stage_system_mounts): 47
mounts take ~3 ms. A task whose spec has exactly those, and no other mount but files of its
own state dir and tmpfs (`fits_staged`), gets them moved into its rootfs, which the shim hands
over as a detached mount (the rootfs is mounted after the namespace was copied, as is
anything mounted on the host since, which is why nothing else may be bound). Any other task
makes its mounts as it would without a sandbox, the child back in the host's mount and
cgroup namespaces first.

Only a task with Docker's default namespaces, cgroup path and device rules (a v2 device
program attached ahead could not be replaced by another), and no memory limit (the child's
pages are charged before the limit would be written), fits.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket

from dockyard.runtime import init, mounts
from dockyard.runtime import spec as oci
from dockyard.runtime import syscalls as sc
from dockyard.runtime.cgroups import devices, hierarchy, limits

TYPE_CHECKING = False  # typing costs the shim milliseconds at start-up
if TYPE_CHECKING:
    from typing import Any, NoReturn

AHEAD = frozenset({"pid", "uts", "ipc", "network"})  # the namespaces the child is cloned into
_CLONE_FLAGS = sc.CLONE_NEWPID | sc.CLONE_NEWUTS | sc.CLONE_NEWIPC | sc.CLONE_NEWNET
DEVICE_RULES = list(devices.DEFAULT_RULES)  # Docker's, written ahead (a v2 program cannot be replaced)
MAX_TASK = 128 * 1024  # bytes of task.json sent in one message (within a socket's default buffer)
STAGE = "/run/dockyard-sandbox"  # an empty directory each child mounts its own tmpfs on, in its own namespace
SAYS_STAGED, SAYS_PLAIN = b"s", b"p"  # what the child says once made: its system mounts made ahead, or not
STAGED_NS = frozenset({"mount", "cgroup"})  # the namespaces unshared for them
READY_TIMEOUT = 5.0  # seconds a start waits for a child still making its mounts (then made anew)


class Sandbox:
    """What prepare() made: the child's pid, the task's cgroups and our end of its socket."""

    __slots__ = ("state_dir", "cgroups_path", "pid", "cgroup_paths", "sock")

    def __init__(
        self, state_dir: str, cgroups_path: str, pid: int, cgroup_paths: list[str], sock: socket.socket
    ) -> None:
        self.state_dir, self.cgroups_path, self.pid = state_dir, cgroups_path, pid
        self.cgroup_paths, self.sock = cgroup_paths, sock


def prepare(state_dir: str, hierarchies: list[hierarchy.Hierarchy]) -> Sandbox:
    """Make the cgroups and the waiting child for the container whose state dir is `state_dir`;
    the child keeps no inherited fd but stdio and its socket. Raises OSError, FileExistsError
    when the task's cgroup exists already (its task runs, or another sandbox has it)."""
    relative = _cgroups_path(state_dir)
    for h in hierarchies:
        if os.path.exists(os.path.join(h.path, relative)):
            raise FileExistsError(f"cgroup {relative} exists")
    cgroup_paths = hierarchy.create(hierarchies, relative)
    ours = theirs = None
    try:
        limits.apply({"devices": DEVICE_RULES}, hierarchies, cgroup_paths)
        inside = hierarchy.unified(hierarchies, cgroup_paths)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # the child runs this interpreter until it execs: nothing in the container may open
        # its /proc/<pid>/exe (see shim._spawn); the flag is the caller's as well, as a shim's
        sc.prctl(sc.PR_SET_DUMPABLE, 0)
        pid = _clone(inside)
        if pid == 0:
            ours.close()
            _wait_for_task(theirs, [p for p in cgroup_paths if p != inside], hierarchies)
    except BaseException:
        for end in (ours, theirs):
            if end is not None:
                end.close()
        hierarchy.remove(cgroup_paths)
        raise
    theirs.close()
    return Sandbox(state_dir, relative, pid, cgroup_paths, ours)


def _cgroups_path(state_dir: str) -> str:
    """The task's cgroup, relative to each hierarchy: the shim's default for a container."""
    return f"dockyard/{os.path.basename(state_dir.rstrip('/'))}"


def _stage(hierarchies: list[hierarchy.Hierarchy], host: list[int]) -> bool:
    """In the child: new cgroup and mount namespaces (receiving the host's mounts, sending none)
    with the system mounts made under STAGE. False, back in the host's (`host`: its mount and
    cgroup namespaces), if that fails."""
    try:
        os.makedirs(STAGE, 0o700, exist_ok=True)
        sc.unshare(sc.CLONE_NEWCGROUP | sc.CLONE_NEWNS)
        sc.mount(None, "/", None, sc.MS_REC | sc.MS_SLAVE)
        sc.mount("tmpfs", STAGE, "tmpfs", sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC, "mode=700")
        mounts.stage_system_mounts(STAGE, hierarchies)
        return True
    except OSError as exc:
        os.write(2, f"shim: sandbox mounts not made ahead: {exc}\n".encode())
        _leave(host)
        return False


def _leave(host: list[int]) -> None:
    """Back into the host's mount and cgroup namespaces (the fds of ours, opened before)."""
    sc.setns(host[0], sc.CLONE_NEWNS)
    sc.setns(host[1], sc.CLONE_NEWCGROUP)


def _clone(inside: str | None) -> int:
    fd = os.open(inside, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC) if inside is not None else None
    try:
        return sc.fork_into_cgroup(fd, _CLONE_FLAGS)
    finally:
        if fd is not None:
            os.close(fd)


def fits(sandbox: Sandbox, task: dict[str, Any]) -> bool:
    """Whether the task can use what prepare() made: a container's init (our runtime) in the
    sandbox's cgroup, exactly the namespaces made ahead (plus new mount and cgroup ones),
    Docker's default device rules and no memory limit. Pure."""
    if task.get("mode") != "init" or task.get("oci_runtime"):
        return False
    linux = task["spec"].get("linux", {})
    if (linux.get("cgroupsPath") or sandbox.cgroups_path).strip("/") != sandbox.cgroups_path:
        return False
    resources = linux.get("resources") or {}
    if resources.get("memory", {}).get("limit") or resources.get("devices") != DEVICE_RULES:
        return False
    namespaces = linux.get("namespaces", [])
    if any(ns.get("path") for ns in namespaces):
        return False
    kinds = {ns["type"] for ns in namespaces}
    return AHEAD <= kinds <= AHEAD | {"mount", "cgroup"} and len(kinds) == len(namespaces)


def fits_staged(sandbox: Sandbox, task: dict[str, Any]) -> bool:
    """Whether a task that fits() can also take the system mounts made ahead: Docker's
    default mounts first, no other mount below /proc, /dev or /sys, every other one a bind of
    a file in the sandbox's state dir (hostname, hosts, resolv.conf) or a tmpfs, the default
    masked and read-only paths, private cgroup and mount namespaces, no device or sysctl. Pure."""
    spec = task["spec"]
    linux = spec.get("linux", {})
    defaults = oci.default_mounts()
    given = spec.get("mounts", [])
    own = sandbox.state_dir.rstrip("/") + "/"
    rest = given[len(defaults) :]
    return (
        given[: len(defaults)] == defaults
        and all(_own_or_fresh(entry, own) for entry in rest)
        and linux.get("maskedPaths") == list(oci.MASKED_PATHS)
        and linux.get("readonlyPaths") == list(oci.READONLY_PATHS)
        and {"cgroup", "mount"} <= {ns["type"] for ns in linux.get("namespaces", [])}
        and not linux.get("devices")
        and not linux.get("sysctl")
    )


def _detached(rootfs: str) -> int | None:
    """The rootfs as a detached mount for the child's namespace; None where open_tree(2) is
    missing (before Linux 5.2) or refused: the child then makes every mount itself."""
    try:
        return sc.open_tree_clone(rootfs)
    except OSError as exc:
        os.write(2, f"shim: rootfs {rootfs} not handed over as a mount: {exc}\n".encode())
        return None


def _own_or_fresh(entry: dict[str, Any], own: str) -> bool:
    if mounts.below(entry.get("destination", ""), mounts.SYSTEM_MOUNTS):
        return False
    if entry.get("type") == "tmpfs":
        return not {"bind", "rbind"} & set(entry.get("options") or ())
    source = entry.get("source") or ""
    return entry.get("type") == "bind" and source.startswith(own) and "/.." not in source


def hand_over(sandbox: Sandbox, raw_task: bytes, fds: init.ChildFds, rootfs: str | None = None) -> None:
    """Send the child its task (task.json's bytes, at most MAX_TASK) and fds; it takes them from
    here. With `rootfs` (the task fits_staged), a child that made its system mounts ahead gets
    the rootfs as a detached mount. Raises OSError when it cannot (the child has died, or is
    not ready within READY_TIMEOUT: nothing was handed)."""
    sandbox.sock.settimeout(READY_TIMEOUT)  # a child still making its mounts is waited for, not forever
    made = sandbox.sock.recv(1)
    sandbox.sock.settimeout(None)
    if made not in (SAYS_STAGED, SAYS_PLAIN):
        raise ConnectionResetError("the sandbox's child has gone")
    given = [fd for fd in (*(fds.stdio or ()), fds.start_fd, fds.status_fd, fds.console_fd) if fd is not None]
    tree = _detached(rootfs) if rootfs is not None and made == SAYS_STAGED else None
    try:
        layout = {
            "stdio": fds.stdio is not None,
            "start": fds.start_fd is not None,
            "console": fds.console_fd is not None,
            "staged": tree is not None,
        }
        header = json.dumps(layout).encode()
        socket.send_fds(sandbox.sock, [header + b"\n" + raw_task], given + ([tree] if tree is not None else []))
    finally:
        if tree is not None:
            os.close(tree)
    sandbox.sock.close()


def discard(sandbox: Sandbox) -> None:
    """Kill the waiting child and remove the cgroups (what a task that does not fit, or none, leaves)."""
    sandbox.sock.close()
    try:
        os.kill(sandbox.pid, signal.SIGKILL)
        os.waitpid(sandbox.pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
    try:
        hierarchy.remove(sandbox.cgroup_paths)
    except OSError as exc:
        os.write(2, f"shim: sandbox cgroups: {exc}\n".encode())


def forget(state_dir: str, hierarchies: list[hierarchy.Hierarchy]) -> None:
    """Remove the cgroups of a sandbox whose shim died without discarding it (its child dies
    with it), waiting briefly for the child to leave them; failures are logged."""
    relative = _cgroups_path(state_dir)
    try:
        hierarchy.remove([os.path.join(h.path, relative) for h in hierarchies])
    except OSError as exc:
        os.write(2, f"shim: sandbox cgroups of {state_dir}: {exc}\n".encode())


def _wait_for_task(sock: socket.socket, v1_paths: list[str], hierarchies: list[hierarchy.Hierarchy]) -> NoReturn:
    """The child: join the v1 cgroups, make the system mounts ahead, wait for the task, then run
    it as init does. Never returns."""
    status_fd = -1
    try:
        sc.prctl(sc.PR_SET_PDEATHSIG, signal.SIGKILL)  # the shim gone before the start: nothing to wait for
        os.closerange(3, sock.fileno())  # the server's socket above all: its end must see our exit
        os.closerange(sock.fileno() + 1, os.sysconf("SC_OPEN_MAX"))
        hierarchy.join(v1_paths)
        sc.populate_private_memory(sock.fileno())  # while idle: the init's set-up then faults little
        host = [os.open(f"/proc/self/ns/{kind}", os.O_RDONLY | os.O_CLOEXEC) for kind in ("mnt", "cgroup")]
        staged = _stage(hierarchies, host)
        sock.send(SAYS_STAGED if staged else SAYS_PLAIN)
        message, fds, _, _ = socket.recv_fds(sock, MAX_TASK + 4096, 6, socket.MSG_CMSG_CLOEXEC)
        if not message:
            os._exit(0)
        header, _, raw_task = message.partition(b"\n")
        layout = json.loads(header)
        rootfs_fd = fds.pop() if layout["staged"] else None
        stdio = tuple(fds[:3]) if layout["stdio"] else None
        rest = fds[3:] if layout["stdio"] else fds
        start_fd = rest.pop(0) if layout["start"] else None
        child_fds = init.ChildFds(stdio, start_fd, rest[0], rest[1] if layout["console"] else None)
        status_fd = child_fds.status_fd
        sock.close()
        if staged and rootfs_fd is None:  # the task makes its own: from the host's namespaces
            _leave(host)
        for fd in host:
            os.close(fd)
        task = json.loads(raw_task)
        program = base64.b64decode(task["seccomp_bpf"]) if task.get("seccomp_bpf") else None
        if rootfs_fd is None:
            init.run_init(task["spec"], [], child_fds, program, hierarchies, made=AHEAD)
        else:
            init.run_init(task["spec"], [], child_fds, program, hierarchies, AHEAD | STAGED_NS, STAGE, rootfs_fd)
    except BaseException as exc:  # never back into the shim's code
        if status_fd >= 0:
            init.fail(status_fd, exc)  # the shim reads it as the init's failure
        os._exit(1)

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

Not made ahead: the mount namespace (the rootfs is mounted at start, after it would have
been copied) and the cgroup namespace (it must follow the cgroup joins). Only a task with
Docker's default namespaces, cgroup path and device rules (a v2 device program attached
ahead could not be replaced by another), and no memory limit (the child's pages are charged
before the limit would be written), fits.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket

from dockyard.runtime import init
from dockyard.runtime import syscalls as sc
from dockyard.runtime.cgroups import devices, hierarchy, limits

TYPE_CHECKING = False  # typing costs the shim milliseconds at start-up
if TYPE_CHECKING:
    from typing import Any, NoReturn

AHEAD = frozenset({"pid", "uts", "ipc", "network"})  # the namespaces the child is cloned into
_CLONE_FLAGS = sc.CLONE_NEWPID | sc.CLONE_NEWUTS | sc.CLONE_NEWIPC | sc.CLONE_NEWNET
DEVICE_RULES = list(devices.DEFAULT_RULES)  # Docker's, written ahead (a v2 program cannot be replaced)
MAX_TASK = 128 * 1024  # bytes of task.json sent in one message (within a socket's default buffer)


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


def hand_over(sandbox: Sandbox, raw_task: bytes, fds: init.ChildFds) -> None:
    """Send the child its task (task.json's bytes, at most MAX_TASK) and fds; it takes them from
    here. Raises OSError when it cannot (the child has died: nothing was handed)."""
    given = [fd for fd in (*(fds.stdio or ()), fds.start_fd, fds.status_fd, fds.console_fd) if fd is not None]
    header = json.dumps({"stdio": fds.stdio is not None, "console": fds.console_fd is not None}).encode()
    socket.send_fds(sandbox.sock, [header + b"\n" + raw_task], given)
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
    """The child: join the v1 cgroups, wait for the task, then run it as init does. Never returns."""
    status_fd = -1
    try:
        sc.prctl(sc.PR_SET_PDEATHSIG, signal.SIGKILL)  # the shim gone before the start: nothing to wait for
        os.closerange(3, sock.fileno())  # the server's socket above all: its end must see our exit
        os.closerange(sock.fileno() + 1, os.sysconf("SC_OPEN_MAX"))
        hierarchy.join(v1_paths)
        sc.populate_private_memory(sock.fileno())  # while idle: the init's set-up then faults little
        message, fds, _, _ = socket.recv_fds(sock, MAX_TASK + 4096, 5, socket.MSG_CMSG_CLOEXEC)
        if not message:
            os._exit(0)
        header, _, raw_task = message.partition(b"\n")
        layout = json.loads(header)
        stdio = tuple(fds[:3]) if layout["stdio"] else None
        rest = fds[3:] if layout["stdio"] else fds
        child_fds = init.ChildFds(stdio, rest[0], rest[1], rest[2] if layout["console"] else None)
        status_fd = child_fds.status_fd
        sock.close()
        task = json.loads(raw_task)
        program = base64.b64decode(task["seccomp_bpf"]) if task.get("seccomp_bpf") else None
        init.run_init(task["spec"], [], child_fds, program, hierarchies, made=AHEAD)
    except BaseException as exc:  # never back into the shim's code
        if status_fd >= 0:
            init.fail(status_fd, exc)  # the shim reads it as the init's failure
        os._exit(1)

"""The per-task shim, forked by the fork-server (zygote.py) as the leader of a new session.

It reads `task.json` from the state dir, makes the task's cgroups, forks the child (init
or exec) into the right pid namespace, reports `{"pid": N}` or `{"error": ...}` on
ready_fd (a task marked `start` is started first, its answer under "start"), then serves shim.sock until the process has exited and exit.json is written.
It outlives the fork-server and the daemon. Imports are kept few (they are paid once, by
the fork-server) and nothing is slow before the ready report: `docker run` waits on it.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import signal
import socket

from dockyard import atomic
from dockyard.runtime import external, init, sandbox
from dockyard.runtime import syscalls as sc
from dockyard.runtime.cgroups import hierarchy, limits, memory
from dockyard.runtime.logfile import JsonFileWriter
from dockyard.runtime.supervisor import Supervisor

TYPE_CHECKING = False  # typing costs the shim milliseconds at start-up
if TYPE_CHECKING:
    from typing import Any

SOCKET, PIDFILE, EXITFILE, TASKFILE = "shim.sock", "shim.pid", "exit.json", "task.json"


def main(argv: list[str]) -> None:
    """Entry point of the shim process; `argv` is [state_dir, ready_fd], and the fd of an
    attacher's socket for a task started at once with one."""
    state_dir, ready_fd = argv[0], int(argv[1])
    attach_fd = int(argv[2]) if len(argv) > 2 else None
    for fd in (ready_fd, *([attach_fd] if attach_fd is not None else [])):
        os.set_inheritable(fd, False)  # the container must not hold the daemon's ends
    if _prepared is not None and _prepared.state_dir != state_dir:
        discard_prepared()
    os.chdir(state_dir)
    try:
        supervisor, wakeup, start_now = _setup(attach_fd)
    except BaseException as exc:
        message = str(exc) if not isinstance(exc, OSError) else _os_error(exc)
        os.write(ready_fd, json.dumps({"error": message}).encode() + b"\n")
        discard_prepared()
        _cleanup()
        os._exit(1)
    report: dict[str, Any] = {"pid": supervisor.pid}
    if start_now:
        try:
            report["start"] = supervisor.begin()
        except OSError as exc:  # an external runtime's binary gone, say: the start failed
            report["start"] = {"error": _os_error(exc)}
    os.write(ready_fd, json.dumps(report).encode() + b"\n")
    os.close(ready_fd)
    supervisor.run(wakeup)
    _cleanup()
    os._exit(0)


def _os_error(exc: OSError) -> str:
    where = f": {exc.filename}" if exc.filename else ""
    return f"{(exc.strerror or str(exc)).lower()}{where}"


def _cleanup() -> None:
    """Remove our socket and pid file, unless a newer shim for this task has replaced them."""
    for name in (SOCKET, PIDFILE):
        try:
            if _owned.get(name) == os.lstat(name).st_ino:
                os.unlink(name)
        except FileNotFoundError:
            pass


_owned: dict[str, int] = {}  # file name -> inode this shim created
_hierarchies: list[hierarchy.Hierarchy] | None = None  # found by the fork server (preload)
_prepared: sandbox.Sandbox | None = None  # what prepare() made ahead for this shim's task


def preload() -> None:
    """Find the cgroup hierarchies once, in the fork server, for every shim it forks: each
    would read the host's whole mount table (a line per container rootfs, 1-3 ms with a
    hundred running). A hierarchy mounted later is seen by the next daemon, as runc's
    per-process cache sees it by the next runc."""
    global _hierarchies
    _hierarchies = hierarchy.discover()


def hierarchies() -> list[hierarchy.Hierarchy]:
    """The host's cgroup hierarchies: those preload() found, else found now."""
    return _hierarchies if _hierarchies is not None else hierarchy.discover()


def prepare(state_dir: str) -> None:
    """In a spare shim: make the sandbox for the container at `state_dir` ahead of its task
    (sandbox.py). A failure is logged; the task is then made as any other."""
    global _prepared
    try:
        _prepared = sandbox.prepare(state_dir, hierarchies())
    except OSError as exc:
        os.write(2, f"shim: sandbox for {state_dir}: {_os_error(exc)}\n".encode())


def discard_prepared() -> None:
    """Drop what prepare() made, if anything (its task did not come, or does not fit)."""
    global _prepared
    if _prepared is not None:
        prepared, _prepared = _prepared, None
        sandbox.discard(prepared)


def _setup(attach_fd: int | None) -> tuple[Supervisor, int, bool]:
    """The task read and its process made, ready; the supervisor (with the attacher the
    daemon sent, if any), the signal wake-up fd and whether the task asks to be started at once."""
    with open(TASKFILE, "rb") as f:
        raw_task = f.read()
    task = json.loads(raw_task)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_w)
    io = task["io"]
    parent_fds, child_fds = _stdio(io, at_once=bool(task.get("start")) and not task.get("oci_runtime"))
    start_fd, status_fd = parent_fds.pop("start"), parent_fds.pop("status")
    if task.get("oci_runtime"):  # runc, crun: they create the container (external.py)
        discard_prepared()
        os.close(start_fd)
        os.close(status_fd)
        listener = _listen()
        pid, cgroup_paths = external.spawn(task, child_fds)
        start = functools.partial(external.start, task)
    else:
        pid, cgroup_paths = _spawn_prepared(task, raw_task, child_fds) or _spawn(task, child_fds)
        try:
            listener = _listen()  # while the child sets itself up
        except BaseException:
            _abandon(pid, cgroup_paths, task)
            raise
        _report_ready(pid, status_fd, parent_fds, child_fds, cgroup_paths, task)
        start = functools.partial(_start_init, start_fd, status_fd)
    log = None
    if io.get("log_path"):
        log = JsonFileWriter(io["log_path"], io["log_max_size"], io["log_max_files"])
    supervisor = Supervisor(
        listener,
        pid,
        parent_fds,
        io.get("tty", False),
        io.get("stdin_once", False),
        log,
        start,
        lambda: _on_exit(supervisor, cgroup_paths, task),
        lambda: _release(cgroup_paths, task),
    )
    if attach_fd is not None:  # before the supervisor reads any output: it misses none
        supervisor.adopt(socket.socket(fileno=attach_fd), task.get("attach") or {})
    return supervisor, wake_r, bool(task.get("start"))


def _listen() -> socket.socket:
    """The pid file and the control socket, both this shim's (so _cleanup removes them)."""
    atomic.write_text(PIDFILE, str(os.getpid()), durable=False)  # a pid means nothing after a reboot
    _owned[PIDFILE] = os.lstat(PIDFILE).st_ino
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.lexists(SOCKET):
        os.unlink(SOCKET)
    listener.bind(SOCKET)
    _owned[SOCKET] = os.lstat(SOCKET).st_ino
    listener.listen(64)
    return listener


def _stdio(io: dict[str, Any], at_once: bool = False) -> tuple[dict[str, Any], init.ChildFds]:
    """The fd pairs between shim and child: stdio pipes or a console socket, start (none for
    a child that execs as soon as it is ready: `at_once`), status."""
    start_r, start_w = os.pipe() if not at_once else (None, None)
    status_r, status_w = os.pipe()
    parent: dict[str, Any] = {"start": start_w, "status": status_r, "stdin": None, "outputs": {}}
    if io.get("tty"):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        parent["console"] = ours
        return parent, init.ChildFds(None, start_r, status_w, theirs.detach())
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    if io.get("open_stdin"):
        in_r, in_w = os.pipe()
        parent["stdin"] = in_w
    else:
        in_r = os.open("/dev/null", os.O_RDONLY)
    parent["outputs"] = {out_r: "stdout", err_r: "stderr"}
    return parent, init.ChildFds((in_r, out_w, err_w), start_r, status_w, None)


def _spawn_prepared(task: dict[str, Any], raw_task: bytes, fds: init.ChildFds) -> tuple[int, list[str]] | None:
    """Run the task in the sandbox made ahead, if there is one and the task fits it; None if not."""
    global _prepared
    prepared, _prepared = _prepared, None
    if prepared is None:
        return None
    if not sandbox.fits(prepared, task) or len(raw_task) > sandbox.MAX_TASK:
        sandbox.discard(prepared)
        return None
    resources = task["spec"].get("linux", {}).get("resources") or {}
    try:  # the device rules are the sandbox's already
        limits.apply({k: v for k, v in resources.items() if k != "devices"}, hierarchies(), prepared.cgroup_paths)
    except BaseException:
        sandbox.discard(prepared)
        raise
    try:
        staged = sandbox.fits_staged(prepared, task)
        sandbox.hand_over(prepared, raw_task, fds, task["spec"]["root"]["path"] if staged else None)
    except OSError:  # its child has died (killed, out of memory): the task is made as any other
        sandbox.discard(prepared)
        return None
    except BaseException:
        sandbox.discard(prepared)
        raise
    return prepared.pid, prepared.cgroup_paths


def _spawn(task: dict[str, Any], fds: init.ChildFds) -> tuple[int, list[str]]:
    """Make cgroups, enter the pid namespace for children, fork the child."""
    found = hierarchies()
    if task["mode"] == "exec":
        target = task["target_pid"]
        cgroup_paths = hierarchy.paths_of(target, found)
        _join_pid_ns(f"/proc/{target}/ns/pid")
    else:
        spec = task["spec"]
        linux = spec.get("linux", {})
        relative = linux.get("cgroupsPath") or f"dockyard/{os.path.basename(os.getcwd())}"
        cgroup_paths = hierarchy.create(found, relative)
        limits.apply(linux.get("resources") or {}, found, cgroup_paths)
        for ns in linux.get("namespaces", []):
            if ns["type"] == "pid":
                if ns.get("path"):
                    _join_pid_ns(ns["path"])
                else:
                    sc.unshare(sc.CLONE_NEWPID)
    program = base64.b64decode(task["seccomp_bpf"]) if task.get("seccomp_bpf") else None
    # The child is this interpreter until it execs, and it enters the container's pid
    # namespace at birth: non-dumpable, no process in the container may open its
    # /proc/<pid>/exe, root, cwd or fds (runc's answer to CVE-2019-5736); the flag is
    # inherited by fork and cleared by the child's exec of the container's program.
    sc.prctl(sc.PR_SET_DUMPABLE, 0)
    inside = hierarchy.unified(found, cgroup_paths)
    pid, inside = _fork_into(inside)
    if pid == 0:
        to_join = [p for p in cgroup_paths if p != inside]
        if task["mode"] == "exec":
            init.run_exec(task["process"], task["target_pid"], to_join, fds, program)
        init.run_init(task["spec"], to_join, fds, program, found)
    return pid, cgroup_paths


def _fork_into(cgroup: str | None) -> tuple[int, str | None]:
    """fork(); the child starts in `cgroup` (a v2 one) if clone3 allows. Returns (pid, where)."""
    if cgroup is not None:
        fd = os.open(cgroup, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            return sc.fork_into_cgroup(fd), cgroup
        except OSError:  # ENOSYS before Linux 5.7; then join it like the v1 ones
            pass
        finally:
            os.close(fd)
    return os.fork(), None


def _join_pid_ns(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        sc.setns(fd, sc.CLONE_NEWPID)
    finally:
        os.close(fd)


def _report_ready(
    pid: int,
    status_fd: int,
    parent: dict[str, Any],
    child: init.ChildFds,
    cgroup_paths: list[str],
    task: dict[str, Any],
) -> None:
    """Close the child's ends, wait for its ready line; fetch the pty master if any."""
    for fd in (child.start_fd, child.status_fd, child.console_fd, *(child.stdio or ())):
        if fd is not None:
            os.close(fd)
    line = _read_line(status_fd)
    message = json.loads(line) if line else {}
    if not message.get("ready"):
        _abandon(pid, cgroup_paths, task)
        raise RuntimeError(message.get("error") or "container init exited before it was ready")
    console = parent.pop("console", None)
    if console is not None:
        _, fds, _, _ = socket.recv_fds(console, 1, 1)
        console.close()
        parent["master"] = parent["stdin"] = fds[0]
        parent["outputs"] = {fds[0]: "stdout"}


def _abandon(pid: int, cgroup_paths: list[str], task: dict[str, Any]) -> None:
    """Kill and reap the child that will not run, and remove the cgroups made for it."""
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    if task["mode"] != "exec":
        hierarchy.remove(cgroup_paths)


def _start_init(start_fd: int | None, status_fd: int) -> str | None:
    """Let our child exec (one started at once, with no start fd, goes by itself); its exec
    error (Go's words) if the program is missing or may not be run. Returns once it is about
    to execve (init.py), not after the execve itself."""
    if start_fd is not None:
        os.write(start_fd, b"s")
        os.close(start_fd)
    os.set_blocking(status_fd, True)
    line = _read_line(status_fd)  # empty: it died before a word
    os.close(status_fd)
    message = json.loads(line) if line else {}
    return message.get("exec_error") or message.get("error")


def _read_line(fd: int) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(fd, 1)
        if not chunk:
            break
        data += chunk
    return data.strip()


def _on_exit(supervisor: Supervisor, cgroup_paths: list[str], task: dict[str, Any]) -> None:
    """Record the exit (atomically)."""
    oom_killed = task["mode"] != "exec" and memory.oom_kills(cgroup_paths) > 0
    supervisor.oom_killed = oom_killed
    record = {
        "exit_code": supervisor.exit_code,
        "pid": supervisor.pid,
        "started_at": supervisor.started_at,
        "finished_at": supervisor.finished_at,
        "oom_killed": oom_killed,
    }
    atomic.write_json(EXITFILE, record, durable=False)  # atomic for the daemon; a reboot ends the task anyway


def _release(cgroup_paths: list[str], task: dict[str, Any]) -> None:
    """Drop what the task held, once its waiters have their answer and its attachers their
    EOF. The daemon deletes a task before it makes another in its place, and the shim answers
    that delete only after this (a delete that times out, 10 s, goes ahead regardless)."""
    if task.get("oci_runtime"):
        try:
            external.delete(task)
        except OSError as exc:  # its binary gone: the shutdown is answered all the same
            os.write(2, f"shim: {task['oci_runtime'][0]} delete: {exc}\n".encode())
    if task["mode"] != "exec":
        try:
            hierarchy.remove(cgroup_paths)
        except OSError:
            pass

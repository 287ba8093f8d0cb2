"""ShimRuntime: the Runtime contract (runtime.py) carried out by one shim process per task.

The engine calls these methods; each talks to the task's shim over `<state_dir>/shim.sock`
(one JSON line each way), or reads `exit.json` once the shim has gone, which is how a
restarted daemon recovers its tasks. Socket paths go through /proc/self/fd/<dirfd>/ so the
108-byte sun_path limit never bites on deep state directories.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

from dockyard import atomic
from dockyard.errors import Conflict, InvalidArgument, NotFound, RuntimeFailure, Unavailable
from dockyard.runtime import seccomp
from dockyard.runtime.cgroups import freezer, hierarchy, limits
from dockyard.runtime.cgroups.stats import Usage, read_usage
from dockyard.runtime.forkserver import HANDSHAKE_TIMEOUT, Zygote
from dockyard.runtime.runtime import IOConfig, TaskState
from dockyard.timestamps import now_rfc3339

STATE_FILES = ("task.json", "exit.json", "shim.pid", "shim.sock", "shim.log")
STATE_FILES += ("config.json", "init.pid", "runtime.log")  # an external runtime's bundle, pid and log (external.py)
MAX_FILTERS = 8  # compiled seccomp programs kept (a profile of its own per container is rare)


class ShimGone(Exception):
    """The shim did not answer: it has exited (or never ran)."""


class ShimRuntime:
    """Runs every task under its own `dockyard.runtime.shim` process."""

    def __init__(self, python: str = sys.executable) -> None:
        self.zygote = Zygote(python)
        self._filters: list[tuple[dict, str]] = []  # seccomp profiles, last used first, and their programs (base64)
        self._filters_lock = threading.Lock()

    def close(self) -> None:
        """Stop the fork-server (running shims are not affected)."""
        self.zygote.close()

    # ---- creation ----------------------------------------------------------------------

    def create(self, state_dir: Path, spec: dict[str, Any], io: IOConfig, oci_runtime: list[str] | None = None) -> int:
        """Start the shim; the init is set up and blocked before exec. Returns its host pid."""
        return self._spawn(state_dir, self._init_task(spec, io, oci_runtime))["pid"]

    def run(
        self, state_dir: Path, spec: dict[str, Any], io: IOConfig, oci_runtime: list[str] | None = None
    ) -> tuple[int, str]:
        """create() and start() at once: the shim starts the process once its init is ready
        and reports both (one exchange fewer: no connection to its socket, no start request)."""
        report = self._spawn(state_dir, {**self._init_task(spec, io, oci_runtime), "start": True})
        started = report.get("start") or {}
        if "error" in started:
            raise RuntimeFailure(f"unable to start container process: {started['error']}")
        return report["pid"], started.get("started_at") or now_rfc3339()

    def _init_task(self, spec: dict[str, Any], io: IOConfig, oci_runtime: list[str] | None) -> dict[str, Any]:
        _check_terminal(spec.get("process", {}), io)
        if oci_runtime:  # runc or crun creates it, and applies the spec's seccomp profile itself
            if io.tty:
                raise InvalidArgument(f"a terminal (-t) is not supported by dockyard with runtime {oci_runtime[0]}")
            return {"mode": "init", "spec": spec, "io": _io_dict(io), "oci_runtime": oci_runtime}
        linux = spec.get("linux", {})
        if "seccomp" in linux:  # the program stands for the profile: its ~450 names are not parsed twice more
            spec = {**spec, "linux": {key: value for key, value in linux.items() if key != "seccomp"}}
        return self._with_filter({"mode": "init", "spec": spec, "io": _io_dict(io)}, linux.get("seccomp"))

    def prepare(self, state_dir: Path) -> None:
        """Have the fork server's spare shim make the task's sandbox (sandbox.py) now, if the
        server runs (the first start after the daemon's starts it)."""
        self.zygote.prepare(state_dir)

    def unprepare(self, state_dir: Path) -> None:
        """Discard the sandbox made for state_dir, if still unused (see sandbox.py)."""
        self.zygote.drop(state_dir)

    def create_exec(self, state_dir: Path, container_dir: Path, process: dict[str, Any], io: IOConfig) -> int:
        """A shim whose child joins the running task at container_dir; returns its host pid."""
        return self._spawn(state_dir, self._exec_task(container_dir, process, io))["pid"]

    def run_exec(
        self,
        state_dir: Path,
        container_dir: Path,
        process: dict[str, Any],
        io: IOConfig,
        attach: tuple[bool, bool, bool] | None = None,
    ) -> tuple[int, socket.socket | None]:
        """create_exec(), attach() and start() at once: the attacher's socket goes to the shim
        with the task, and the shim starts the process once its child is ready (no connection
        to its socket, no start request)."""
        task = {**self._exec_task(container_dir, process, io), "start": True}
        ours = theirs = None
        try:
            if attach is not None:
                task["attach"] = dict(zip(("stdin", "stdout", "stderr"), attach, strict=True))
                ours, theirs = socket.socketpair()
            report = self._spawn(state_dir, task, theirs.detach() if theirs is not None else None)
            started = report.get("start") or {}
            if "error" in started:
                raise RuntimeFailure(f"unable to start container process: {started['error']}")
        except BaseException:
            if ours is not None:
                ours.close()
            raise
        return report["pid"], ours

    def _exec_task(self, container_dir: Path, process: dict[str, Any], io: IOConfig) -> dict[str, Any]:
        """An exec's task: its process in the running task at container_dir, with that task's
        seccomp program and no_new_privs. Raises Conflict if it is not running."""
        _check_terminal(process, io)
        target = self.state(container_dir)
        if target.status != "running" or target.pid is None:
            raise Conflict(f"Container {container_dir.name} is not running")
        container_task = _task_of(container_dir)
        container_spec = container_task.get("spec", {})
        if container_spec.get("process", {}).get("noNewPrivileges"):
            process = {**process, "noNewPrivileges": True}
        task = {"mode": "exec", "process": process, "target_pid": target.pid, "io": _io_dict(io)}
        if "seccomp_bpf" in container_task:  # the container's own program (our init's)
            return {**task, "seccomp_bpf": container_task["seccomp_bpf"]}
        return self._with_filter(task, container_spec.get("linux", {}).get("seccomp"))  # an external runtime's

    def _with_filter(self, task: dict[str, Any], profile: dict[str, Any] | None) -> dict[str, Any]:
        """Add the compiled seccomp program (base64) for `profile`, compiled once per profile."""
        if not profile:
            return task
        with self._filters_lock:  # equal profiles share their lists (specgen): compared at once
            found = next((entry for entry in self._filters if entry[0] == profile), None)
            if found is None:
                try:
                    found = (profile, base64.b64encode(seccomp.compile_profile(profile)).decode())
                except (OSError, ValueError) as exc:
                    raise RuntimeFailure(f"failed to create task: seccomp: {exc}") from None
            self._filters = [found, *(entry for entry in self._filters if entry is not found)][:MAX_FILTERS]
        return {**task, "seccomp_bpf": found[1]}

    def _spawn(self, state_dir: Path, task: dict[str, Any], attach_fd: int | None = None) -> dict[str, Any]:
        """Write the task, have the fork server's shim run it; the shim's ready report.
        `attach_fd` (closed here, whatever happens): an attacher's socket for the shim."""
        theirs = [] if attach_fd is None else [attach_fd]  # ours closed once the request has gone
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
            if (state_dir / "task.json").exists() and not (state_dir / "exit.json").exists():
                raise Conflict(f"task {state_dir.name} already exists")
            _remove_state(state_dir)
            # 0600: it holds the environment; unsynced: a task's files describe only this boot
            atomic.write_json(state_dir / "task.json", task, mode=0o600, durable=False)
            ready_r, ready_w = os.pipe()
            try:
                theirs.insert(0, ready_w)
                try:
                    failure = self.zygote.spawn(state_dir, theirs)
                finally:
                    _close_all(theirs)  # the shim's death then reads as EOF
                report = _read_report(ready_r) if failure is None else json.dumps({"error": failure}).encode()
            finally:
                os.close(ready_r)
        finally:
            _close_all(theirs)
        return self._created(state_dir, report)

    def _created(self, state_dir: Path, report: bytes) -> dict[str, Any]:
        message = json.loads(report) if report.strip() else {}
        if "pid" in message:
            return message
        reason = message.get("error") or _tail(state_dir / "shim.log") or "shim exited"
        _remove_state(state_dir)
        raise RuntimeFailure(f"failed to create task: {reason}")

    # ---- control -----------------------------------------------------------------------

    def start(self, state_dir: Path) -> str:
        """Let the process exec; returns when it started. RuntimeFailure carries Go's wording
        of an exec error."""
        try:
            reply = self._request(state_dir, {"op": "start"})
        except ShimGone:
            self._recorded_state(state_dir)
            raise Conflict(f"task {state_dir.name} has already exited") from None
        if "error" in reply:
            raise RuntimeFailure(f"unable to start container process: {reply['error']}")
        return reply.get("started_at") or now_rfc3339()

    def state(self, state_dir: Path) -> TaskState:
        """Current state from the shim, else from exit.json. Raises NotFound if never created."""
        try:
            return _task_state(self._request(state_dir, {"op": "state"}))
        except ShimGone:
            return self._recorded_state(state_dir)

    def kill(self, state_dir: Path, signal: int) -> None:
        """Send `signal` to the process; Conflict once it has exited."""
        try:
            reply = self._request(state_dir, {"op": "kill", "signal": int(signal)})
        except ShimGone:
            self._recorded_state(state_dir)
            reply = {"error": "process already finished"}
        if "error" in reply:
            raise Conflict(f"Container {state_dir.name} is not running")

    def wait(self, state_dir: Path, timeout: float | None = None) -> TaskState:
        """Block until the process has exited, or `timeout` seconds; then the state."""
        if timeout is not None and timeout <= 0:
            return self.state(state_dir)  # a zero timeout would make the socket non-blocking
        return self._watch(state_dir, timeout)()

    def watch(self, state_dir: Path) -> Callable[[], TaskState]:
        """The wait request sent now, to a shim still there (it answers its waiters before it
        releases the task); the call returned reads the answer, or the recorded exit."""
        try:
            return self._watch(state_dir, None)
        except OSError:  # no descriptor left, say: the call tries again
            return lambda: self.wait(state_dir)

    def _watch(self, state_dir: Path, timeout: float | None) -> Callable[[], TaskState]:
        try:
            sock = _connect(state_dir)
        except ShimGone:
            return lambda: self._recorded_state(state_dir)
        sock.settimeout(timeout)
        try:
            sock.sendall(b'{"op": "wait"}\n')
        except TimeoutError:  # a wedged shim, not a gone one
            sock.close()
            return lambda: self.state(state_dir)
        except OSError:  # gone meanwhile: its exit is on record
            sock.close()
            return lambda: self._recorded_state(state_dir)

        def answer() -> TaskState:
            with sock:
                try:
                    line = _read_line(sock)
                except TimeoutError:
                    return self.state(state_dir)
                except OSError:
                    line = b""
            return _task_state(json.loads(line)) if line else self._recorded_state(state_dir)

        return answer

    def attach(self, state_dir: Path, stdin: bool, stdout: bool, stderr: bool) -> socket.socket:
        """A stream socket to the process's stdio (see the Runtime contract)."""
        request = {"op": "attach", "stdin": stdin, "stdout": stdout, "stderr": stderr}
        sock = None
        try:
            sock = _connect(state_dir)
            sock.settimeout(HANDSHAKE_TIMEOUT)  # a wedged shim must not hold the caller forever
            sock.sendall(json.dumps(request).encode() + b"\n")
            if _read_line(sock):
                sock.settimeout(None)
                return sock
            sock.close()
        except ShimGone:
            pass
        except OSError:
            if sock is not None:
                sock.close()
        self._recorded_state(state_dir)
        ours, theirs = socket.socketpair()
        theirs.close()
        return ours  # already at EOF: the process has exited

    def resize(self, state_dir: Path, height: int, width: int) -> None:
        """Set the terminal size (TIOCSWINSZ); a no-op without a TTY or once exited."""
        try:
            self._request(state_dir, {"op": "resize", "height": height, "width": width})
        except ShimGone:
            self._recorded_state(state_dir)

    def delete(self, state_dir: Path) -> None:
        """Forget a task that is not running: stop its shim, remove its state files."""
        try:
            current = self.state(state_dir)
        except NotFound:
            return
        if current.status == "running":
            raise Conflict(f"cannot delete task {state_dir.name}: it is running")
        try:
            self._request(state_dir, {"op": "shutdown"}, timeout=10)
        except ShimGone:
            pass
        _remove_state(state_dir)

    # ---- the task's cgroups: pause, top, stats -----------------------------------------

    def pause(self, state_dir: Path) -> None:
        """Freeze every process of a running container (docker pause)."""
        freezer.freeze(*self._controller(state_dir, "freezer"))

    def resume(self, state_dir: Path) -> None:
        """Thaw a paused container (docker unpause)."""
        freezer.thaw(*self._controller(state_dir, "freezer"))

    def pids(self, state_dir: Path) -> list[int]:
        """Host pids of every process in the container, init first (docker top)."""
        path, _ = self._controller(state_dir, "pids")
        with open(Path(path) / "cgroup.procs") as f:
            return [int(line) for line in f if line.strip()]

    def update(self, state_dir: Path, resources: dict[str, Any]) -> None:
        """New limits for a running container's cgroups (docker update)."""
        hierarchies, paths = self._cgroups(state_dir)
        try:
            limits.apply(resources, hierarchies, paths)
        except OSError as exc:
            raise RuntimeFailure(f"failed to update the cgroups of {state_dir.name}: {exc}") from None

    def stats(self, state_dir: Path) -> Usage:
        """Memory, CPU time and pid counters of a running container (docker stats)."""
        where = {}
        for name in ("memory", "cpuacct", "cpu", "pids"):
            try:
                where[name] = self._controller(state_dir, name)
            except NotFound:
                continue
        return read_usage(where)

    def _cgroups(self, state_dir: Path) -> tuple[list[hierarchy.Hierarchy], list[str]]:
        """The hierarchies and the running task's cgroup in each. Raises Conflict if it is not running."""
        if self.state(state_dir).status != "running":
            raise Conflict(f"Container {state_dir.name} is not running")
        task = json.loads((state_dir / "task.json").read_bytes())
        relative = task["spec"].get("linux", {}).get("cgroupsPath") or f"dockyard/{state_dir.name}"
        hierarchies = hierarchy.discover()
        return hierarchies, [str(Path(h.path) / relative.strip("/")) for h in hierarchies]

    def _controller(self, state_dir: Path, name: str) -> tuple[str, int]:
        """(path, version) of the task's cgroup that carries controller `name`."""
        hierarchies, paths = self._cgroups(state_dir)
        where = limits.controller_path(name, hierarchies, paths)
        if where is None:
            raise NotFound(f"cgroup controller {name} is not available")
        return where

    # ---- plumbing ----------------------------------------------------------------------

    def _request(self, state_dir: Path, message: dict[str, Any], timeout: float = 30) -> dict[str, Any]:
        sock = _connect(state_dir)
        with sock:
            sock.settimeout(timeout)
            try:
                sock.sendall(json.dumps(message).encode() + b"\n")
                line = _read_line(sock)
            except OSError as exc:
                raise ShimGone(str(exc)) from None
        if not line:
            raise ShimGone("connection closed")
        return json.loads(line)

    def _recorded_state(self, state_dir: Path) -> TaskState:
        """The state once no shim answers: exit.json, or NotFound, or a dead shim's 255."""
        try:
            record = json.loads((state_dir / "exit.json").read_bytes())
        except (FileNotFoundError, ValueError):  # ValueError: emptied by a power loss (unsynced)
            if not (state_dir / "task.json").exists():
                raise NotFound(f"no such task: {state_dir.name}") from None
            if _shim_alive(state_dir):
                raise Unavailable(f"shim for {state_dir.name} is not responding") from None
            return TaskState("stopped", None, 255, None, None)
        return TaskState(
            "stopped",
            None,
            record["exit_code"],
            record.get("started_at"),
            record.get("finished_at"),
            bool(record.get("oom_killed")),
        )


def _check_terminal(process: dict[str, Any], io: IOConfig) -> None:
    if bool(process.get("terminal")) != io.tty:
        raise InvalidArgument("process.terminal and the IO's tty setting must agree")


def _task_of(container_dir: Path) -> dict[str, Any]:
    """The running container's task: its execs get its seccomp program and no_new_privs too
    (as runc does). Raises Conflict without one: an exec must never run without its filter."""
    try:
        return json.loads((container_dir / "task.json").read_bytes())
    except FileNotFoundError:
        raise Conflict(f"Container {container_dir.name} is not running") from None


def _io_dict(io: IOConfig) -> dict[str, Any]:
    data = {f.name: getattr(io, f.name) for f in fields(io)}  # flat: no deep copy
    data["log_path"] = str(io.log_path) if io.log_path else None
    return data


def _task_state(reply: dict[str, Any]) -> TaskState:
    if "error" in reply:
        raise RuntimeFailure(reply["error"])
    return TaskState(
        reply["status"],
        reply["pid"],
        reply["exit_code"],
        reply["started_at"],
        reply["finished_at"],
        bool(reply.get("oom_killed")),
    )


def _connect(state_dir: Path) -> socket.socket:
    try:
        dirfd = os.open(state_dir, os.O_PATH | os.O_DIRECTORY)
    except FileNotFoundError:
        raise ShimGone("no state directory") from None
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)  # no descriptor left: raised, dirfd closed
        try:
            sock.connect(f"/proc/self/fd/{dirfd}/shim.sock")
        except OSError as exc:
            sock.close()
            raise ShimGone(str(exc)) from None
    finally:
        os.close(dirfd)
    return sock


def _read_line(sock: socket.socket) -> bytes:
    """One reply line, reading nothing past it (an attach stream may follow)."""
    data = b""
    while True:
        peek = sock.recv(4096, socket.MSG_PEEK)
        if not peek:
            return b""
        cut = peek.find(b"\n")
        if cut >= 0:
            return data + sock.recv(cut + 1)[:-1]
        data += sock.recv(len(peek))


def _close_all(fds: list[int]) -> None:
    while fds:
        os.close(fds.pop())


def _read_report(fd: int) -> bytes:
    """The shim's one-line ready report (EOF if it died first)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    return data


def _tail(path: Path, limit: int = 2000) -> str:
    try:
        return path.read_bytes()[-limit:].decode("utf-8", "replace").strip()
    except FileNotFoundError:
        return ""


def _shim_alive(state_dir: Path) -> bool:
    """Whether the recorded shim still runs. A killed shim whose parent (the daemon) died
    stays a zombie where PID 1 does not reap orphans, so a zombie counts as gone."""
    try:
        pid = int((state_dir / "shim.pid").read_text())
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def _remove_state(state_dir: Path) -> None:
    """Delete a task's state files, and any temp file a crash left while one was written."""
    try:
        present = os.listdir(state_dir)
    except FileNotFoundError:
        return
    for name in present:
        if name in STATE_FILES or atomic.leftover_of(name) in STATE_FILES:
            (state_dir / name).unlink(missing_ok=True)

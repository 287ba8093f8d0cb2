"""ShimRuntime: the Runtime contract (runtime.py) carried out by one shim process per task.

The engine calls these methods; each talks to the task's shim over `<state_dir>/shim.sock`
(one JSON line each way), or reads `exit.json` once the shim has gone, which is how a
restarted daemon recovers its tasks. Socket paths go through /proc/self/fd/<dirfd>/ so the
108-byte sun_path limit never bites on deep state directories.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

from dockyard.errors import Conflict, InvalidArgument, NotFound, RuntimeFailure, Unavailable
from dockyard.runtime import seccomp
from dockyard.runtime.cgroups import freezer, hierarchy, limits
from dockyard.runtime.cgroups.stats import Usage, read_usage
from dockyard.runtime.runtime import IOConfig, TaskState

HANDSHAKE_TIMEOUT = 30.0  # seconds a shim or the fork-server may take to answer a request
SRC_DIR = str(Path(__file__).resolve().parents[2])
BOOTSTRAP = (
    "import sys;sys.path.insert(0,sys.argv[1]);from dockyard.runtime.zygote import serve;serve(int(sys.argv[2]))"
)
STATE_FILES = ("task.json", "exit.json", "exit.json.tmp", "shim.pid", "shim.pid.tmp", "shim.sock", "shim.log")


class ShimGone(Exception):
    """The shim did not answer: it has exited (or never ran)."""


class ShimRuntime:
    """Runs every task under its own `dockyard.runtime.shim` process."""

    def __init__(self, python: str = sys.executable) -> None:
        self.zygote = Zygote(python)
        self._filters: dict[str, str] = {}  # sha256 of a seccomp profile -> its program, base64
        self._filters_lock = threading.Lock()

    def close(self) -> None:
        """Stop the fork-server (running shims are not affected)."""
        self.zygote.close()

    # ---- creation ----------------------------------------------------------------------

    def create(self, state_dir: Path, spec: dict[str, Any], io: IOConfig) -> int:
        """Start the shim; the init is set up and blocked before exec. Returns its host pid."""
        _check_terminal(spec.get("process", {}), io)
        task = {"mode": "init", "spec": spec, "io": _io_dict(io)}
        return self._spawn(state_dir, self._with_filter(task, spec.get("linux", {}).get("seccomp")))

    def create_exec(self, state_dir: Path, container_dir: Path, process: dict[str, Any], io: IOConfig) -> int:
        """A shim whose child joins the running task at container_dir; returns its host pid."""
        _check_terminal(process, io)
        target = self.state(container_dir)
        if target.status != "running" or target.pid is None:
            raise Conflict(f"Container {container_dir.name} is not running")
        linux, container_process = _container_security(container_dir)
        if container_process.get("noNewPrivileges"):
            process = {**process, "noNewPrivileges": True}
        task = {"mode": "exec", "process": process, "target_pid": target.pid, "io": _io_dict(io)}
        return self._spawn(state_dir, self._with_filter(task, linux.get("seccomp")))

    def _with_filter(self, task: dict[str, Any], profile: dict[str, Any] | None) -> dict[str, Any]:
        """Add the compiled seccomp program (base64) for `profile`, compiled once per profile."""
        if not profile:
            return task
        key = hashlib.sha256(json.dumps(profile, sort_keys=True).encode()).hexdigest()
        with self._filters_lock:
            program = self._filters.get(key)
            if program is None:
                try:
                    program = base64.b64encode(seccomp.compile_profile(profile)).decode()
                except (OSError, ValueError) as exc:
                    raise RuntimeFailure(f"failed to create task: seccomp: {exc}") from None
                self._filters[key] = program
        return {**task, "seccomp_bpf": program}

    def _spawn(self, state_dir: Path, task: dict[str, Any]) -> int:
        state_dir.mkdir(parents=True, exist_ok=True)
        if (state_dir / "task.json").exists() and not (state_dir / "exit.json").exists():
            raise Conflict(f"task {state_dir.name} already exists")
        for name in STATE_FILES:
            (state_dir / name).unlink(missing_ok=True)
        _write_atomic(state_dir / "task.json", json.dumps(task).encode())
        ready_r, ready_w = os.pipe()
        try:
            failure = self.zygote.spawn(state_dir, ready_w)
            os.close(ready_w)
            ready_w = -1
            report = _read_report(ready_r) if failure is None else json.dumps({"error": failure}).encode()
        finally:
            os.close(ready_r)
            if ready_w >= 0:
                os.close(ready_w)
        return self._created(state_dir, report)

    def _created(self, state_dir: Path, report: bytes) -> int:
        message = json.loads(report) if report.strip() else {}
        if "pid" in message:
            return int(message["pid"])
        reason = message.get("error") or _tail(state_dir / "shim.log") or "shim exited"
        for name in STATE_FILES:
            (state_dir / name).unlink(missing_ok=True)
        raise RuntimeFailure(f"failed to create task: {reason}")

    # ---- control -----------------------------------------------------------------------

    def start(self, state_dir: Path) -> None:
        """Let the process exec; RuntimeFailure carries Go's wording of an exec error."""
        try:
            reply = self._request(state_dir, {"op": "start"})
        except ShimGone:
            self._recorded_state(state_dir)
            raise Conflict(f"task {state_dir.name} has already exited") from None
        if "error" in reply:
            raise RuntimeFailure(f"unable to start container process: {reply['error']}")

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
        try:
            sock = _connect(state_dir)
        except ShimGone:
            return self._recorded_state(state_dir)
        with sock:
            sock.settimeout(timeout)
            try:
                sock.sendall(b'{"op": "wait"}\n')
                line = _read_line(sock)
            except TimeoutError:
                return self.state(state_dir)
            except OSError:
                line = b""
        return _task_state(json.loads(line)) if line else self._recorded_state(state_dir)

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
        for name in STATE_FILES:
            (state_dir / name).unlink(missing_ok=True)

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

    def stats(self, state_dir: Path) -> Usage:
        """Memory, CPU time and pid counters of a running container (docker stats)."""
        where = {}
        for name in ("memory", "cpuacct", "cpu", "pids"):
            try:
                where[name] = self._controller(state_dir, name)
            except NotFound:
                continue
        return read_usage(where)

    def _controller(self, state_dir: Path, name: str) -> tuple[str, int]:
        """(path, version) of the task's cgroup that carries controller `name`."""
        if self.state(state_dir).status != "running":
            raise Conflict(f"Container {state_dir.name} is not running")
        task = json.loads((state_dir / "task.json").read_bytes())
        relative = task["spec"].get("linux", {}).get("cgroupsPath") or f"dockyard/{state_dir.name}"
        hierarchies = hierarchy.discover()
        paths = [str(Path(h.path) / relative.strip("/")) for h in hierarchies]
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
        except FileNotFoundError:
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


class Zygote:
    """The client of the shim fork-server (zygote.py), started on first use, restarted if gone."""

    def __init__(self, python: str) -> None:
        self.python = python
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._proc: subprocess.Popen | None = None

    def spawn(self, state_dir: Path, ready_fd: int) -> str | None:
        """Have a shim forked for state_dir, reporting on ready_fd; None, or why it was not."""
        request = json.dumps({"state_dir": str(state_dir), "log": str(state_dir / "shim.log")}).encode()
        with self._lock:
            for attempt in (0, 1):
                try:
                    sock = self._sock or self._start()
                    socket.send_fds(sock, [request], [ready_fd])
                except OSError as exc:  # no server (any more): nothing was forked, start a new one
                    self._stop()
                    if attempt:
                        return f"cannot start the shim fork-server: {exc}"
                    continue
                try:
                    sock.settimeout(HANDSHAKE_TIMEOUT)
                    reply = json.loads(sock.recv(4096) or b"{}")
                except OSError:  # gone, or wedged past the timeout: start afresh next time
                    reply = {}
                if not reply:
                    self._stop()
                    return "the shim fork-server exited or did not answer"
                return reply.get("error")
        raise AssertionError("unreachable")

    def _start(self) -> socket.socket:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with theirs:
            self._proc = subprocess.Popen(
                [self.python, "-I", "-S", "-c", BOOTSTRAP, SRC_DIR, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                start_new_session=True,
                cwd="/",
            )
        self._sock = ours
        return ours

    def _stop(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._proc is not None:
            try:
                self._proc.wait(timeout=5)  # it exits at EOF on its socket
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None

    def close(self) -> None:
        with self._lock:
            self._stop()


def _check_terminal(process: dict[str, Any], io: IOConfig) -> None:
    if bool(process.get("terminal")) != io.tty:
        raise InvalidArgument("process.terminal and the IO's tty setting must agree")


def _container_security(container_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The running container's `linux` and `process`: its execs get its seccomp profile and
    no_new_privs too (as runc does)."""
    try:
        spec = json.loads((container_dir / "task.json").read_bytes()).get("spec", {})
    except FileNotFoundError:
        return {}, {}
    return spec.get("linux", {}), spec.get("process", {})


def _io_dict(io: IOConfig) -> dict[str, Any]:
    data = asdict(io)
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
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
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
    try:
        pid = int((state_dir / "shim.pid").read_text())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return False
    return True


def _write_atomic(path: Path, data: bytes) -> None:
    """Durably replace `path`, readable by root only (task.json holds the environment)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    with open(fd, "wb") as f:
        os.fchmod(fd, 0o600)  # an older tmp file may have been created with other bits
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)

"""FakeRuntime: the Runtime contract (dockyard.runtime.runtime) in memory, with no processes.

A task is a state machine, `created -> running -> stopped`, driven by the engine's calls
and by the test: `exit(state_dir, code)` ends a process, `output(state_dir, ...)` makes it
write. What a process does on its own comes from its `Program`, chosen by the base name of
`args[0]` in the table `programs` (tests add their own):

    true / false     exit 0 / 1 as soon as started
    echo ARGS        write ARGS and a newline to stdout, exit 0
    cat              copy stdin to stdout, exit 0 when stdin closes
    sleep            run until SIGKILL or told to exit
    anything else    the same, but SIGTERM and SIGINT end it (a service with handlers)

Every task acts as a container's init (pid 1 of its namespace): a signal ends it with
128+signal only if it is SIGKILL or one its Program `handles`; the kernel drops the
others, as it does for real inits (so `docker stop` of `sleep` waits for its timeout).
A paused task keeps its signals until resumed. Output goes to attachers
(8-byte frames, raw with a TTY) and to the json-file log, as the shim does. An executable
missing from the rootfs fails start() with Go's words, as the real init does.

Tasks live in the FakeRuntime object, not on disk: a test that "restarts the daemon"
builds new services over the same FakeRuntime, after `abandon_waits()` so the old
service's monitor threads never see another exit (its threads die with a real daemon).
"""

from __future__ import annotations

import itertools
import json
import os
import signal as signals
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockyard.errors import Conflict, InvalidArgument, NotFound, RuntimeFailure
from dockyard.multiplex import STDERR, STDOUT, encode_frame
from dockyard.runtime.cgroups.stats import Usage
from dockyard.runtime.logfile import JsonFileWriter
from dockyard.runtime.runtime import IOConfig, TaskState
from dockyard.testing.programs import SERVICE_SIGNALS, Program, default_programs, exec_error
from dockyard.timestamps import now_rfc3339

FIRST_PID = 5_000_000  # above any kernel's pid_max: a fake pid never names a real process
_NEVER = threading.Event()  # what an abandoned wait blocks on


@dataclass(eq=False)
class _Attacher:
    sock: socket.socket  # our end of the socketpair
    stdin: bool
    streams: frozenset[int]


@dataclass(eq=False)
class _Task:
    name: str
    args: list[str]
    env: list[str]
    rootfs: Path | None
    io: IOConfig
    pid: int
    program: Program
    status: str = "created"
    exit_code: int | None = None
    started_at: str | None = None
    finished_at: str | None = None
    paused: bool = False
    pending: list[int] = field(default_factory=list)  # signals held while paused
    stdin_open: bool = False
    attachers: list[_Attacher] = field(default_factory=list)
    log: JsonFileWriter | None = None
    resizes: list[tuple[int, int]] = field(default_factory=list)
    resources: dict = field(default_factory=dict)  # linux.resources, as created and updated
    binds: dict = field(default_factory=dict)  # bind-mounted destination -> host source
    spec: dict = field(default_factory=dict)  # the OCI spec it was created with
    oci_runtime: list[str] | None = None  # the external runtime's command it was created with
    oom_killed: bool = False

    def state(self) -> TaskState:
        pid = None if self.status == "stopped" else self.pid
        return TaskState(self.status, pid, self.exit_code, self.started_at, self.finished_at, self.oom_killed)  # type: ignore[arg-type]


class FakeRuntime:
    """Runtime in memory; every method honours ShimRuntime's contract and error words."""

    def __init__(self) -> None:
        self.programs = default_programs()
        self._tasks: dict[Path, _Task] = {}
        self._changed = threading.Condition(threading.RLock())
        self._pids = itertools.count(FIRST_PID)
        self._epoch = 0
        self.prepared: set[Path] = set()  # state dirs prepare() was asked for and unprepare() not
        self.runs = 0  # tasks made by run(), created and started in one step

    # ---- the Runtime Protocol ------------------------------------------------------------

    def create(self, state_dir: Path, spec: dict[str, Any], io: IOConfig, oci_runtime: list[str] | None = None) -> int:
        process = spec.get("process", {})
        if oci_runtime and io.tty:
            raise InvalidArgument(f"a terminal (-t) is not supported by dockyard with runtime {oci_runtime[0]}")
        pid = self._create(state_dir, process, Path(spec["root"]["path"]), io)
        with self._changed:
            self.prepared.discard(Path(state_dir))
            task = self._tasks[Path(state_dir)]
            task.oci_runtime = list(oci_runtime) if oci_runtime else None
            task.spec = json.loads(json.dumps(spec))
            task.resources = json.loads(json.dumps(spec.get("linux", {}).get("resources", {})))
            task.binds = {m["destination"]: m["source"] for m in spec.get("mounts", []) if m.get("type") == "bind"}
        return pid

    def run(
        self, state_dir: Path, spec: dict[str, Any], io: IOConfig, oci_runtime: list[str] | None = None
    ) -> tuple[int, str]:
        self.runs += 1
        pid = self.create(state_dir, spec, io, oci_runtime)
        return pid, self.start(state_dir)

    def prepare(self, state_dir: Path) -> None:
        with self._changed:
            self.prepared.add(Path(state_dir))

    def unprepare(self, state_dir: Path) -> None:
        with self._changed:
            self.prepared.discard(Path(state_dir))

    def create_exec(self, state_dir: Path, container_dir: Path, process: dict[str, Any], io: IOConfig) -> int:
        with self._changed:
            target = self._tasks.get(Path(container_dir))
            if target is None or target.status != "running":
                raise Conflict(f"Container {Path(container_dir).name} is not running")
            return self._create(state_dir, process, target.rootfs, io)

    def run_exec(
        self,
        state_dir: Path,
        container_dir: Path,
        process: dict[str, Any],
        io: IOConfig,
        attach: tuple[bool, bool, bool] | None = None,
    ) -> tuple[int, socket.socket | None]:
        pid = self.create_exec(state_dir, container_dir, process, io)
        sock = self.attach(state_dir, *attach) if attach else None
        try:
            self.start(state_dir)
        except BaseException:
            if sock is not None:
                sock.close()
            raise
        return pid, sock

    def _create(self, state_dir: Path, process: dict[str, Any], rootfs: Path | None, io: IOConfig) -> int:
        if bool(process.get("terminal")) != io.tty:
            raise InvalidArgument("process.terminal and the IO's tty setting must agree")
        args = list(process.get("args") or [])
        if not args:
            raise RuntimeFailure("failed to create task: args must not be empty")
        with self._changed:
            key = Path(state_dir)
            old = self._tasks.get(key)
            if old is not None and old.status != "stopped":
                raise Conflict(f"task {key.name} already exists")
            make = self.programs.get(os.path.basename(args[0]))
            program = make(args) if make else Program(handles=SERVICE_SIGNALS)
            task = _Task(key.name, args, list(process.get("env") or []), rootfs, io, next(self._pids), program)
            task.stdin_open = io.open_stdin
            key.mkdir(parents=True, exist_ok=True)
            if io.log_path is not None:
                task.log = JsonFileWriter(str(io.log_path), io.log_max_size, io.log_max_files)
            self._tasks[key] = task
            return task.pid

    def start(self, state_dir: Path) -> str:
        with self._changed:
            task = self._task(state_dir)
            if task.status == "stopped":
                raise Conflict(f"task {task.name} has already exited")
            if task.status != "created":
                raise RuntimeFailure(f"unable to start container process: cannot start a task in state {task.status}")
            task.status, task.started_at = "running", now_rfc3339()
            failure = exec_error(task.args, task.env, task.rootfs, task.binds)
            if failure is not None:
                message, code = failure
                self._exit(task, code)
                raise RuntimeFailure(f"unable to start container process: {message}")
            self._run(task)
            return task.started_at

    def _run(self, task: _Task) -> None:
        program = task.program
        if program.stdout:
            self._output(task, STDOUT, program.stdout)
        if program.stderr:
            self._output(task, STDERR, program.stderr)
        if program.exit_code is not None:
            self._exit(task, program.exit_code)
        elif program.echo_stdin and not task.stdin_open:
            self._exit(task, 0)

    def state(self, state_dir: Path) -> TaskState:
        with self._changed:
            return self._task(state_dir).state()

    def kill(self, state_dir: Path, signal: int) -> None:
        with self._changed:
            task = self._task(state_dir)
            if task.status == "stopped":
                raise Conflict(f"Container {task.name} is not running")
            if task.paused:
                task.pending.append(int(signal))
            else:
                self._deliver(task, int(signal))

    def _deliver(self, task: _Task, number: int) -> None:
        if number == signals.SIGKILL or number in task.program.handles:
            self._exit(task, 128 + number)

    def wait(self, state_dir: Path, timeout: float | None = None) -> TaskState:
        with self._changed:
            return self._answer(self._task(state_dir), self._epoch, timeout)

    def watch(self, state_dir: Path) -> Callable[[], TaskState]:
        """The task and the daemon's epoch taken now, as the shim takes the request: a watch
        begun before abandon_waits() is never answered."""
        with self._changed:
            task, epoch = self._tasks.get(Path(state_dir)), self._epoch
        if task is None:
            return lambda: self.wait(state_dir)  # NotFound when asked, as the shim's recorded state
        return lambda: self._answered(task, epoch)

    def _answered(self, task: _Task, epoch: int) -> TaskState:
        with self._changed:
            return self._answer(task, epoch, None)

    def _answer(self, task: _Task, epoch: int, timeout: float | None) -> TaskState:
        """Under the lock: the task's state once stopped (or at the timeout); never, if the
        daemon that asked (its epoch) is gone."""
        self._changed.wait_for(lambda: task.status == "stopped" or self._epoch != epoch, timeout)
        if self._epoch != epoch:
            self._changed.release()  # the daemon that asked is gone: never answer it
            _NEVER.wait()
        return task.state()

    def attach(self, state_dir: Path, stdin: bool, stdout: bool, stderr: bool) -> socket.socket:
        ours, theirs = socket.socketpair()
        with self._changed:
            task = self._task(state_dir)
            if task.status == "stopped":
                ours.close()
                return theirs  # already at EOF: the process has exited
            streams = frozenset(s for s, wanted in ((STDOUT, stdout), (STDERR, stderr)) if wanted)
            attacher = _Attacher(ours, stdin and task.stdin_open, streams)
            task.attachers.append(attacher)
        threading.Thread(target=self._read_stdin, args=(task, attacher), daemon=True).start()
        return theirs

    def resize(self, state_dir: Path, height: int, width: int) -> None:
        with self._changed:
            task = self._task(state_dir)
            if task.io.tty and task.status != "stopped":
                task.resizes.append((height, width))

    def delete(self, state_dir: Path) -> None:
        with self._changed:
            task = self._tasks.get(Path(state_dir))
            if task is None:
                return
            if task.status == "running":
                raise Conflict(f"cannot delete task {task.name}: it is running")
            if task.status == "created":
                self._exit(task, 128 + signals.SIGKILL)  # the shim kills an init that never ran
            del self._tasks[Path(state_dir)]

    def pause(self, state_dir: Path) -> None:
        with self._changed:
            self._running(state_dir).paused = True

    def resume(self, state_dir: Path) -> None:
        with self._changed:
            task = self._running(state_dir)
            task.paused = False
            pending, task.pending = task.pending, []
            for number in pending:
                if task.status != "stopped":
                    self._deliver(task, number)

    def pids(self, state_dir: Path) -> list[int]:
        with self._changed:
            task = self._running(state_dir)
            prefix = Path(state_dir) / "execs"
            execs = [t.pid for d, t in self._tasks.items() if d.parent == prefix and t.status == "running"]
            return [task.pid, *execs]

    def update(self, state_dir: Path, resources: dict[str, Any]) -> None:
        with self._changed:
            task = self._running(state_dir)
            for controller, values in resources.items():
                task.resources[controller] = {**task.resources.get(controller, {}), **values}

    def stats(self, state_dir: Path) -> Usage:
        with self._changed:
            task = self._running(state_dir)
            return Usage(
                memory_bytes=1 << 20,
                memory_limit=task.resources.get("memory", {}).get("limit"),
                cpu_ns=1_000_000,
                pids=len(self.pids(state_dir)),
                pids_limit=task.resources.get("pids", {}).get("limit") or None,
            )

    # ---- what a test does to the processes -----------------------------------------------

    def exit(self, state_dir: Path, code: int) -> None:
        """The process exits with `code` (as if it returned from main)."""
        with self._changed:
            task = self._task(state_dir)
            if task.status != "running":
                raise Conflict(f"task {task.name} is not running")
            self._exit(task, code)

    def oom(self, state_dir: Path) -> None:
        """The kernel's OOM killer takes the process (SIGKILL, oom_killed in its state)."""
        with self._changed:
            task = self._running(state_dir)
            task.oom_killed = True
            self._exit(task, 137)

    def resizes(self, state_dir: Path) -> list[tuple[int, int]]:
        """Every terminal size the task was given, in order."""
        with self._changed:
            return list(self._task(state_dir).resizes)

    def spec(self, state_dir: Path) -> dict:
        """The OCI spec the task was created with."""
        with self._changed:
            return json.loads(json.dumps(self._task(state_dir).spec))

    def oci_runtime(self, state_dir: Path) -> list[str] | None:
        """The external runtime's command the task was created with (None: dockyard's own)."""
        with self._changed:
            return self._task(state_dir).oci_runtime

    def resources(self, state_dir: Path) -> dict:
        """The task's linux.resources: those it was created with, then each update merged in."""
        with self._changed:
            return json.loads(json.dumps(self._task(state_dir).resources))

    def output(self, state_dir: Path, data: bytes, stream: int = STDOUT) -> None:
        """The process writes `data` to stdout (1) or stderr (2)."""
        with self._changed:
            self._output(self._task(state_dir), stream, data)

    def task_args(self, state_dir: Path) -> list[str]:
        """The argv the task was created with."""
        with self._changed:
            return list(self._task(state_dir).args)

    def is_paused(self, state_dir: Path) -> bool:
        with self._changed:
            return self._task(state_dir).paused

    def running(self) -> list[Path]:
        """State directories of every task that is created or running."""
        with self._changed:
            return [d for d, t in self._tasks.items() if t.status != "stopped"]

    def abandon_waits(self) -> None:
        """The daemon died: waits already pending never return (their threads died with it)."""
        with self._changed:
            self._epoch += 1
            self._changed.notify_all()

    # ---- plumbing ---------------------------------------------------------------------------

    def _task(self, state_dir: Path) -> _Task:
        task = self._tasks.get(Path(state_dir))
        if task is None:
            raise NotFound(f"no such task: {Path(state_dir).name}")
        return task

    def _running(self, state_dir: Path) -> _Task:
        task = self._task(state_dir)
        if task.status != "running":
            raise Conflict(f"Container {task.name} is not running")
        return task

    def _output(self, task: _Task, stream: int, data: bytes) -> None:
        if task.io.tty:
            stream = STDOUT
        if task.log is not None:
            task.log.write("stderr" if stream == STDERR else "stdout", data)
        for attacher in task.attachers:
            if stream in attacher.streams:
                try:
                    attacher.sock.sendall(data if task.io.tty else encode_frame(stream, data))
                except OSError:
                    pass  # the attacher went away

    def _exit(self, task: _Task, code: int) -> None:
        task.status, task.exit_code = "stopped", code
        task.finished_at = now_rfc3339()
        task.started_at = task.started_at or task.finished_at
        task.paused, task.stdin_open = False, False
        if task.log is not None:
            task.log.close()
            task.log = None
        for attacher in task.attachers:
            _hang_up(attacher.sock)
        task.attachers.clear()
        self._changed.notify_all()

    def _read_stdin(self, task: _Task, attacher: _Attacher) -> None:
        """Feed what the attacher writes to the process; its EOF may close stdin."""
        while True:
            try:
                data = attacher.sock.recv(65536)
            except OSError:
                return
            with self._changed:
                if task.status == "stopped":
                    return
                if data and attacher.stdin and task.stdin_open and task.program.echo_stdin:
                    self._output(task, STDOUT, data)
                if not data:
                    if attacher.stdin and task.io.stdin_once:
                        self._close_stdin(task)
                    return

    def _close_stdin(self, task: _Task) -> None:
        task.stdin_open = False
        if task.status == "running" and task.program.echo_stdin:
            self._exit(task, 0)


def _hang_up(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)  # wakes our stdin reader; the attacher reads EOF
    except OSError:
        pass
    sock.close()

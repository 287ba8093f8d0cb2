"""The runtime contract: what the engine asks of whatever runs containers.

A *task* is one supervised process: a container's init, or one exec inside it. It is named
by its state directory (`containers/<id>/` or `containers/<id>/execs/<exec-id>/`), which
holds the shim's socket (`shim.sock`), pid (`shim.pid`) and, once the process has exited,
`exit.json`. State lives on disk so a restarted daemon finds every task again. These files
are replaced atomically but not fsynced: they describe processes of this boot only, and one
a power loss left empty reads as absent (a task whose shim is gone without an exit record
has exited with 255).

Lifecycle (runc's create/start split, so the engine can attach and wire the network
between the two):

    prepare(state_dir)              optional, at the container's creation: its init made ahead
    create(state_dir, spec, io)     shim up; init has its namespaces and rootfs, blocked before exec
    run(state_dir, spec, io)        create and start in one step, when nothing comes between them
    run_exec(state_dir, ...)        an exec created, attached and started in one step
    attach(state_dir, ...)          any number of times, before or after start
    start(state_dir)                init execs the process; raises RuntimeFailure if exec fails
    kill / resize / state           while it runs
    pause / resume / pids / stats   while it runs (its cgroups); Conflict once it has exited
    update(state_dir, resources)    new cgroup limits while it runs (docker update)
    wait(state_dir)                 returns once it has exited (exit.json written by the shim)
    watch(state_dir)                a wait begun now, its answer taken later (a monitor's)
    delete(state_dir)               forget the task (shim gone, files removed but logs kept)

The shim outlives the daemon: killing the daemon never stops a task.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from dockyard.runtime.cgroups.stats import Usage

DEFAULT_LOG_MAX_SIZE = 10 * 1024 * 1024
DEFAULT_LOG_MAX_FILES = 5


@dataclass(frozen=True, slots=True)
class IOConfig:
    """How the shim wires the process's stdio and where it logs."""

    tty: bool = False
    open_stdin: bool = False  # keep a stdin pipe open for attachers
    stdin_once: bool = False  # close stdin when the first stdin attacher detaches
    log_path: Path | None = None  # json-file log; None for no log (execs)
    log_max_size: int = DEFAULT_LOG_MAX_SIZE  # rotate past this many bytes
    log_max_files: int = DEFAULT_LOG_MAX_FILES  # keep at most this many files


@dataclass(frozen=True, slots=True)
class TaskState:
    status: Literal["created", "running", "stopped"]
    pid: int | None  # host pid of the process (None once stopped)
    exit_code: int | None  # set once stopped: the code, or 128+signal
    started_at: str | None  # RFC 3339 with nanoseconds, UTC
    finished_at: str | None
    oom_killed: bool = False


class Runtime(Protocol):
    """Every task is named by its state directory; every method may raise RuntimeFailure."""

    def create(self, state_dir: Path, spec: dict[str, Any], io: IOConfig, oci_runtime: list[str] | None = None) -> int:
        """Start the shim and set up the init (namespaces, rootfs, mounts) blocked before exec.

        `spec` is an OCI runtime-spec config.json document; `spec["root"]["path"]` is an
        already mounted rootfs. `oci_runtime`, when given, is the command of an external OCI
        runtime (runc, crun: path and options) that creates the container from the same spec
        instead of dockyard's own init. Returns the init's host pid (for /proc/<pid>/ns/net).
        Raises RuntimeFailure with the kernel's (or that runtime's) reason.
        """

    def run(
        self, state_dir: Path, spec: dict[str, Any], io: IOConfig, oci_runtime: list[str] | None = None
    ) -> tuple[int, str]:
        """create() then start() in one step, for a task that needs nothing between the two
        (no network to wire, no attacher, no terminal size): the process execs as soon as
        its init is ready. Returns (host pid, started_at). Raises what create() raises, and
        RuntimeFailure as start() does when the exec fails (the task then exists, exited)."""

    def prepare(self, state_dir: Path) -> None:
        """A hint, at a container's creation: make ahead what create() of its init will need
        (cgroups, a process in new namespaces), so its start takes less. create() works
        without it; what was made and is not used goes at unprepare() or after a while."""

    def unprepare(self, state_dir: Path) -> None:
        """Discard what prepare() made for state_dir, if it is still unused (a container
        removed without a start); returns once it has gone (or after a bounded wait)."""

    def create_exec(self, state_dir: Path, container_dir: Path, process: dict[str, Any], io: IOConfig) -> int:
        """Like create(), for an OCI `process` run inside the running task at container_dir.

        Returns the exec's host pid. Raises Conflict if that task is not running.
        """

    def run_exec(
        self,
        state_dir: Path,
        container_dir: Path,
        process: dict[str, Any],
        io: IOConfig,
        attach: tuple[bool, bool, bool] | None = None,
    ) -> tuple[int, socket.socket | None]:
        """create_exec(), attach() with `attach` (stdin, stdout, stderr) if given, and start()
        in one exchange: the attacher is there before any output is read, so it misses nothing.
        Returns (host pid, the attacher's socket or None). Raises what those raise; a failed
        exec raises RuntimeFailure as start() does (the task then exists, exited)."""

    def start(self, state_dir: Path) -> str:
        """Let the process exec; returns when it started (RFC 3339, as state() then reports).
        Raises RuntimeFailure whose message carries the exec error in Go's words, which the
        docker CLI maps to exit codes:
        `exec: "x": executable file not found in $PATH` (127),
        `exec: "/x": stat /x: no such file or directory` (127), `permission denied` (126).
        Raises Conflict if the process has already exited."""

    def state(self, state_dir: Path) -> TaskState:
        """The task's state now (recorded on disk once it has exited).

        Raises NotFound if no task was ever created there (or it was deleted).
        """

    def kill(self, state_dir: Path, signal: int) -> None:
        """Send `signal` to the process. Raises Conflict once it has exited."""

    def wait(self, state_dir: Path, timeout: float | None = None) -> TaskState:
        """Block until the process has exited (or the timeout passes; then the current state)."""

    def watch(self, state_dir: Path) -> Callable[[], TaskState]:
        """Begin a wait() without a timeout now; the call returned blocks until the process has
        exited and gives its state, and raises what wait() would (NotFound for no task):
        watch() itself does not. Begun before a quick exit, it is usually answered ahead of the
        task's release; call it once: until then it holds what it began."""

    def attach(self, state_dir: Path, stdin: bool, stdout: bool, stderr: bool) -> socket.socket:
        """A socket to the shim for this attacher: reading yields output (Docker's 8-byte
        multiplexed frames without a TTY, the raw terminal stream with one); writing feeds
        stdin; shutdown(SHUT_WR) closes stdin. EOF once the process has exited (a socket
        already at EOF if it had exited before the call)."""

    def resize(self, state_dir: Path, height: int, width: int) -> None:
        """Set the terminal size; a no-op without a TTY or once the process has exited."""

    def delete(self, state_dir: Path) -> None:
        """Forget a stopped task: stop its shim, remove its socket and state files.

        Nothing if there is no task. Raises Conflict while its process runs.
        """

    def pause(self, state_dir: Path) -> None:
        """Freeze every process of the running task (docker pause). Raises Conflict if it is
        not running, NotFound if the host has no freezer."""

    def resume(self, state_dir: Path) -> None:
        """Thaw a paused task (docker unpause). Raises Conflict if it is not running."""

    def pids(self, state_dir: Path) -> list[int]:
        """Host pids of every process of the running task, init first (docker top).

        Raises Conflict if it is not running.
        """

    def update(self, state_dir: Path, resources: dict[str, Any]) -> None:
        """Write OCI `linux.resources` to the running task's cgroups (docker update).

        Raises Conflict if it is not running, RuntimeFailure with the kernel's reason."""

    def stats(self, state_dir: Path) -> Usage:
        """Memory, CPU time and pid counters of the running task (docker stats); a counter the
        host lacks is None. Raises Conflict if it is not running."""

"""The Runtime contract (dockyard.runtime.runtime), run against FakeRuntime and ShimRuntime.

Only commands both understand: true, false, echo, cat, sleep (busybox in the real rootfs,
Programs in the fake). Every task is a container's init, so it ignores a SIGTERM it has no
handler for.
"""

from __future__ import annotations

import json
import signal
import socket
import time
from pathlib import Path

import pytest

from dockyard.errors import Conflict, InvalidArgument, NotFound, RuntimeFailure
from dockyard.runtime.runtime import IOConfig
from dockyard.runtime.spec import process_spec
from tests.runtime.busybox import build_rootfs, collect, make_spec


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    return build_rootfs(tmp_path / "rootfs")


@pytest.fixture
def task(tmp_path: Path) -> Path:
    return tmp_path / "task"


def started(runtime, task: Path, rootfs: Path, args: list[str], io: IOConfig | None = None) -> int:
    pid = runtime.create(task, make_spec(rootfs, args), io or IOConfig())
    runtime.start(task)
    return pid


def test_lifecycle_create_start_kill_wait_delete(runtime, task, rootfs):
    pid = runtime.create(task, make_spec(rootfs, ["sleep", "1000"]), IOConfig())
    created = runtime.state(task)
    assert (created.status, created.pid, created.exit_code) == ("created", pid, None)
    started_at = runtime.start(task)
    running = runtime.state(task)
    assert (running.status, running.pid, running.started_at) == ("running", pid, started_at) and started_at
    runtime.kill(task, signal.SIGKILL)
    stopped = runtime.wait(task, timeout=10)
    assert (stopped.status, stopped.pid, stopped.exit_code) == ("stopped", None, 137)
    assert stopped.finished_at and stopped.finished_at >= stopped.started_at
    runtime.delete(task)
    with pytest.raises(NotFound):
        runtime.state(task)


@pytest.mark.parametrize(("command", "code"), [(["true"], 0), (["false"], 1)])
def test_exit_codes(runtime, task, rootfs, command, code):
    started(runtime, task, rootfs, command)
    assert runtime.wait(task, timeout=10).exit_code == code


def test_a_signal_death_is_128_plus_the_signal(runtime, task, rootfs):
    started(runtime, task, rootfs, ["sleep", "1000"])
    runtime.kill(task, signal.SIGKILL)
    assert runtime.wait(task, timeout=10).exit_code == 128 + signal.SIGKILL


def test_an_init_ignores_a_sigterm_it_has_no_handler_for(runtime, task, rootfs):
    started(runtime, task, rootfs, ["sleep", "1000"])
    runtime.kill(task, signal.SIGTERM)
    assert runtime.wait(task, timeout=0.3).status == "running"
    runtime.kill(task, signal.SIGKILL)
    assert runtime.wait(task, timeout=10).exit_code == 137


def test_wait_with_a_timeout_returns_the_current_state(runtime, task, rootfs):
    started(runtime, task, rootfs, ["sleep", "1000"])
    began = time.monotonic()
    state = runtime.wait(task, timeout=0.3)
    assert state.status == "running" and state.exit_code is None
    assert 0.25 <= time.monotonic() - began < 5


def test_a_watch_begun_before_the_exit_gives_it_when_asked(runtime, task, rootfs):
    started(runtime, task, rootfs, ["sleep", "1000"])
    exit_of = runtime.watch(task)
    runtime.kill(task, signal.SIGKILL)
    assert runtime.wait(task, timeout=10).exit_code == 137  # the exit is over before the watch is asked
    stopped = exit_of()
    assert (stopped.status, stopped.exit_code) == ("stopped", 137)


def test_a_watch_of_a_quick_exit_or_of_no_task(runtime, task, rootfs, tmp_path):
    runtime.run(task, make_spec(rootfs, ["false"]), IOConfig())
    assert runtime.watch(task)().exit_code == 1
    ghost = runtime.watch(tmp_path / "task-ghost")  # begun without error: the call says NotFound
    with pytest.raises(NotFound):
        ghost()


def test_output_reaches_attachers_framed_and_the_log(runtime, task, rootfs, tmp_path):
    log = tmp_path / "task.log"
    runtime.create(task, make_spec(rootfs, ["echo", "hello", "world"]), IOConfig(log_path=log))
    sock = runtime.attach(task, False, True, True)
    runtime.start(task)
    assert collect(sock) == (b"hello world\n", b"")
    assert runtime.wait(task, timeout=10).exit_code == 0
    entry = json.loads(log.read_text().splitlines()[0])
    assert (entry["log"], entry["stream"]) == ("hello world\n", "stdout")


def test_stdin_reaches_the_process_and_its_end_closes_it(runtime, task, rootfs):
    runtime.create(task, make_spec(rootfs, ["cat"]), IOConfig(open_stdin=True, stdin_once=True))
    sock = runtime.attach(task, True, True, True)
    runtime.start(task)
    sock.sendall(b"through stdin\n")
    sock.shutdown(socket.SHUT_WR)
    assert collect(sock) == (b"through stdin\n", b"")
    assert runtime.wait(task, timeout=10).exit_code == 0


def test_attach_after_exit_is_at_eof(runtime, task, rootfs):
    started(runtime, task, rootfs, ["true"])
    runtime.wait(task, timeout=10)
    sock = runtime.attach(task, False, True, True)
    sock.settimeout(10)
    assert sock.recv(100) == b""
    sock.close()


def test_a_missing_executable_fails_start_in_gos_words(runtime, task, rootfs):
    runtime.create(task, make_spec(rootfs, ["nosuchcommand"]), IOConfig())
    with pytest.raises(RuntimeFailure, match=r'exec: "nosuchcommand": executable file not found in \$PATH'):
        runtime.start(task)
    assert runtime.wait(task, timeout=10).exit_code == 127


def test_run_creates_and_starts_in_one_step(runtime, task, rootfs):
    pid, started_at = runtime.run(task, make_spec(rootfs, ["sleep", "1000"]), IOConfig())
    running = runtime.state(task)
    assert (running.status, running.pid, running.started_at) == ("running", pid, started_at) and started_at
    with pytest.raises((Conflict, RuntimeFailure)):
        runtime.start(task)  # started already
    runtime.kill(task, signal.SIGKILL)
    assert runtime.wait(task, timeout=10).exit_code == 137


def test_run_logs_the_output_from_the_first_byte(runtime, task, rootfs, tmp_path):
    log = tmp_path / "task.log"
    runtime.run(task, make_spec(rootfs, ["echo", "ran"]), IOConfig(log_path=log))
    assert runtime.wait(task, timeout=10).exit_code == 0
    assert json.loads(log.read_text().splitlines()[0])["log"] == "ran\n"


def test_run_of_a_missing_executable_fails_in_gos_words_and_leaves_the_task_exited(runtime, task, rootfs):
    with pytest.raises(RuntimeFailure, match=r'exec: "nosuchcommand": executable file not found in \$PATH'):
        runtime.run(task, make_spec(rootfs, ["nosuchcommand"]), IOConfig())
    assert runtime.wait(task, timeout=10).exit_code == 127
    runtime.delete(task)
    with pytest.raises(NotFound):
        runtime.state(task)


def test_run_exec_attaches_before_the_process_runs(runtime, task, rootfs):
    started(runtime, task, rootfs, ["sleep", "1000"])
    echo = process_spec(["echo", "at", "once"], env=["PATH=/bin"])
    pid, sock = runtime.run_exec(task / "execs" / "echo", task, echo, IOConfig(), (False, True, True))
    assert pid > 0
    assert collect(sock) == (b"at once\n", b"")  # written as soon as it ran: not lost
    assert runtime.wait(task / "execs" / "echo", timeout=10).exit_code == 0
    cat = process_spec(["cat"], env=["PATH=/bin"])
    io = IOConfig(open_stdin=True, stdin_once=True)
    _, sock = runtime.run_exec(task / "execs" / "cat", task, cat, io, (True, True, True))
    sock.sendall(b"in\n")
    sock.shutdown(socket.SHUT_WR)  # stdin closed: cat ends
    assert collect(sock) == (b"in\n", b"")
    assert runtime.wait(task / "execs" / "cat", timeout=10).exit_code == 0
    _, none = runtime.run_exec(task / "execs" / "detached", task, process_spec(["true"], env=["PATH=/bin"]), IOConfig())
    assert none is None and runtime.wait(task / "execs" / "detached", timeout=10).exit_code == 0
    runtime.kill(task, signal.SIGKILL)
    runtime.wait(task, timeout=10)


def test_run_exec_of_a_missing_executable_fails_in_gos_words(runtime, task, rootfs):
    started(runtime, task, rootfs, ["sleep", "1000"])
    exec_dir = task / "execs" / "missing"
    with pytest.raises(RuntimeFailure, match=r'exec: "nosuchcommand": executable file not found in \$PATH'):
        runtime.run_exec(
            exec_dir, task, process_spec(["nosuchcommand"], env=["PATH=/bin"]), IOConfig(), (False, True, True)
        )
    assert runtime.wait(exec_dir, timeout=10).exit_code == 127
    runtime.kill(task, signal.SIGKILL)
    runtime.wait(task, timeout=10)


def test_delete_of_a_running_task_is_a_conflict(runtime, task, rootfs):
    started(runtime, task, rootfs, ["sleep", "1000"])
    with pytest.raises(Conflict):
        runtime.delete(task)
    assert runtime.state(task).status == "running"


def test_an_exited_task_refuses_kill_and_start(runtime, task, rootfs):
    started(runtime, task, rootfs, ["true"])
    runtime.wait(task, timeout=10)
    with pytest.raises(Conflict):
        runtime.kill(task, signal.SIGKILL)
    with pytest.raises((Conflict, RuntimeFailure)):
        runtime.start(task)


def test_create_over_a_live_task_is_a_conflict_and_over_a_dead_one_replaces_it(runtime, task, rootfs):
    first = started(runtime, task, rootfs, ["sleep", "1000"])
    with pytest.raises(Conflict):
        runtime.create(task, make_spec(rootfs, ["true"]), IOConfig())
    runtime.kill(task, signal.SIGKILL)
    runtime.wait(task, timeout=10)
    second = runtime.create(task, make_spec(rootfs, ["true"]), IOConfig())
    assert second != first and runtime.state(task).status == "created"


def test_an_unknown_task_is_not_found_and_deleting_it_is_nothing(runtime, tmp_path):
    ghost = tmp_path / "task-ghost"
    with pytest.raises(NotFound):
        runtime.state(ghost)
    with pytest.raises(NotFound):
        runtime.wait(ghost, timeout=1)
    runtime.delete(ghost)


def test_terminal_and_tty_must_agree(runtime, task, rootfs):
    with pytest.raises(InvalidArgument):
        runtime.create(task, make_spec(rootfs, ["true"]), IOConfig(tty=True))


def test_pause_resume_pids_stats(runtime, task, rootfs):
    pid = started(runtime, task, rootfs, ["sleep", "1000"])
    assert runtime.pids(task)[0] == pid
    assert runtime.stats(task).pids == 1
    runtime.pause(task)
    runtime.resume(task)
    runtime.kill(task, signal.SIGKILL)
    runtime.wait(task, timeout=10)
    for verb in (runtime.pause, runtime.resume, runtime.pids, runtime.stats):
        with pytest.raises(Conflict):
            verb(task)


def test_exec_runs_inside_a_running_task_only(runtime, task, rootfs, tmp_path):
    started(runtime, task, rootfs, ["sleep", "1000"])
    exec_dir = task / "execs" / "task-exec"
    runtime.create_exec(exec_dir, task, process_spec(["echo", "from", "exec"], env=["PATH=/bin"]), IOConfig())
    sock = runtime.attach(exec_dir, False, True, True)
    runtime.start(exec_dir)
    assert collect(sock) == (b"from exec\n", b"")
    assert runtime.wait(exec_dir, timeout=10).exit_code == 0
    runtime.delete(exec_dir)
    runtime.kill(task, signal.SIGKILL)
    runtime.wait(task, timeout=10)
    with pytest.raises(Conflict):
        runtime.create_exec(exec_dir, task, process_spec(["true"], env=["PATH=/bin"]), IOConfig())

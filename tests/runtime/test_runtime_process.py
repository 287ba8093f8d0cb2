"""Root tests through the real runtime: exit codes, stdio, exec errors, signals, logs."""

import json
import signal
import time

import pytest

from dockyard.errors import Conflict, NotFound, RuntimeFailure
from dockyard.runtime.runtime import IOConfig
from tests.runtime.busybox import collect, make_spec, run_task

pytestmark = pytest.mark.root


@pytest.mark.parametrize("script,code", [("true", 0), ("exit 3", 3), ("exit 255", 255)])
def test_exit_codes(runtime, state_dir, rootfs, script, code):
    got, _, _ = run_task(runtime, state_dir, make_spec(rootfs, ["sh", "-c", script]))
    assert got == code
    record = json.loads((state_dir / "exit.json").read_text())
    assert record["exit_code"] == code and record["finished_at"].endswith("Z")


@pytest.mark.parametrize(
    "args,message,code",
    [
        (["nosuchcmd"], 'exec: "nosuchcmd": executable file not found in $PATH', 127),
        (["/bin/nope"], 'exec: "/bin/nope": stat /bin/nope: no such file or directory', 127),
        (["/notexec"], 'exec: "/notexec": permission denied', 126),
        (["/tmp"], 'exec: "/tmp": permission denied', 126),
    ],
)
def test_exec_errors_have_go_wording_and_docker_codes(runtime, state_dir, rootfs, args, message, code):
    runtime.create(state_dir, make_spec(rootfs, args), IOConfig())
    with pytest.raises(RuntimeFailure) as info:
        runtime.start(state_dir)
    assert message in str(info.value)
    assert runtime.wait(state_dir, timeout=10).exit_code == code


@pytest.mark.parametrize(
    "content,message",
    [
        (b"hello", "exec /bad: exec format error\n"),  # neither ELF nor a #! line
        (b"#!/nope\n", "exec /bad: no such file or directory\n"),  # its interpreter is missing
    ],
)
def test_a_program_that_execve_refuses_starts_and_exits_1_with_the_reason_on_stderr(
    runtime, state_dir, rootfs, content, message
):
    """As runc under dockerd: found, so started; execve's error is the program's own."""
    (rootfs / "bad").write_bytes(content)
    (rootfs / "bad").chmod(0o755)
    assert run_task(runtime, state_dir, make_spec(rootfs, ["/bad"])) == (1, b"", message.encode())


def test_a_program_on_a_noexec_mount_fails_the_start_as_runc_does(runtime, state_dir, rootfs, tmp_path):
    """Mode bits say executable, the mount says no: refused before the start is answered
    (runc's access check), not an exec that fails after it."""
    import shutil

    host = tmp_path / "noexec"
    host.mkdir()
    shutil.copy(rootfs / "bin" / "busybox", host / "prog")
    (host / "prog").chmod(0o755)
    spec = make_spec(rootfs, ["/ne/prog", "true"])
    options = ["rbind", "ro", "noexec"]
    spec["mounts"].append({"destination": "/ne", "type": "bind", "source": str(host), "options": options})
    runtime.create(state_dir, spec, IOConfig())
    with pytest.raises(RuntimeFailure, match="exec /ne/prog: permission denied"):
        runtime.start(state_dir)
    assert runtime.wait(state_dir, timeout=10).exit_code == 126


def test_an_argument_execve_cannot_take_is_the_programs_own_failure(runtime, state_dir, rootfs):
    """A NUL byte in an argument (Python's ValueError, not OSError): said on stderr, exit 1."""
    spec = make_spec(rootfs, ["sh", "-c", "true\x00"])
    assert run_task(runtime, state_dir, spec) == (1, b"", b"exec /bin/sh: invalid argument\n")


def test_a_seccomp_profile_that_refuses_faccessat2_still_lets_the_program_run(runtime, state_dir, rootfs):
    """glibc's faccessat with AT_EACCESS tries faccessat2 only; the access check before exec
    must not depend on it (older copies of Docker's own profile lack it)."""
    spec = make_spec(rootfs, ["sh", "-c", "exit 7"])
    rule = {"names": ["faccessat2"], "action": "SCMP_ACT_ERRNO"}
    spec["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [rule]}
    assert run_task(runtime, state_dir, spec)[0] == 7


def test_stdout_and_stderr_are_framed_apart_and_logged(runtime, state_dir, rootfs, tmp_path):
    log = tmp_path / "c-json.log"
    spec = make_spec(rootfs, ["sh", "-c", "echo out; echo err >&2; printf partial"])
    code, out, err = run_task(runtime, state_dir, spec, IOConfig(log_path=log))
    assert (code, out, err) == (0, b"out\npartial", b"err\n")
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert {(e["stream"], e["log"]) for e in entries} == {
        ("stdout", "out\n"),
        ("stderr", "err\n"),
        ("stdout", "partial"),
    }


def test_stdin_round_trip(runtime, state_dir, rootfs):
    code, out, _ = run_task(runtime, state_dir, make_spec(rootfs, ["cat"]), stdin=b"hello\nworld\n")
    assert (code, out) == (0, b"hello\nworld\n")


def test_large_output_is_complete(runtime, state_dir, rootfs):
    spec = make_spec(
        rootfs, ["sh", "-c", "i=0; while [ $i -lt 2000 ]; do echo line-$i-padding-padding-padding; i=$((i+1)); done"]
    )
    code, out, _ = run_task(runtime, state_dir, spec)
    lines = out.decode().splitlines()
    assert code == 0 and len(lines) == 2000 and lines[-1].startswith("line-1999-")


def test_tty_session_and_resize(runtime, state_dir, rootfs):
    spec = make_spec(rootfs, ["sh", "-c", "tty; read x; stty size"], terminal=True)
    io = IOConfig(tty=True, open_stdin=True)
    runtime.create(state_dir, spec, io)
    sock = runtime.attach(state_dir, True, True, False)
    runtime.start(state_dir)
    runtime.resize(state_dir, 40, 100)
    time.sleep(0.2)
    sock.sendall(b"\n")
    out, _ = collect(sock, tty=True)
    assert b"/dev/pts/0" in out
    assert b"40 100" in out
    assert runtime.wait(state_dir, timeout=10).exit_code == 0


def test_kill_with_signal_runs_the_trap(runtime, state_dir, rootfs):
    spec = make_spec(rootfs, ["sh", "-c", "trap 'exit 7' TERM; echo ready; while true; do sleep 0.05; done"])
    runtime.create(state_dir, spec, IOConfig())
    sock = runtime.attach(state_dir, False, True, True)
    runtime.start(state_dir)
    assert sock.recv(64).endswith(b"ready\n")
    runtime.kill(state_dir, signal.SIGTERM)
    assert runtime.wait(state_dir, timeout=10).exit_code == 7
    sock.close()


def test_init_ignoring_sigterm_needs_sigkill(runtime, state_dir, rootfs):
    runtime.create(state_dir, make_spec(rootfs, ["sleep", "100"]), IOConfig())
    runtime.start(state_dir)
    runtime.kill(state_dir, signal.SIGTERM)
    assert runtime.wait(state_dir, timeout=0.5).status == "running"
    runtime.kill(state_dir, signal.SIGKILL)
    state = runtime.wait(state_dir, timeout=10)
    assert (state.status, state.exit_code) == ("stopped", 137)
    with pytest.raises(Conflict, match="is not running"):
        runtime.kill(state_dir, signal.SIGKILL)


def test_states_through_the_lifecycle(runtime, state_dir, rootfs):
    with pytest.raises(NotFound):
        runtime.state(state_dir)
    pid = runtime.create(state_dir, make_spec(rootfs, ["sleep", "100"]), IOConfig())
    created = runtime.state(state_dir)
    assert (created.status, created.pid, created.started_at) == ("created", pid, None)
    runtime.start(state_dir)
    running = runtime.state(state_dir)
    assert running.status == "running" and running.started_at.endswith("Z")
    with pytest.raises(Conflict):
        runtime.delete(state_dir)
    runtime.kill(state_dir, signal.SIGKILL)
    runtime.wait(state_dir, timeout=10)
    runtime.delete(state_dir)
    with pytest.raises(NotFound):
        runtime.state(state_dir)
    assert sorted(p.name for p in state_dir.iterdir()) == []


def test_delete_of_created_task_kills_its_init(runtime, state_dir, rootfs):
    pid = runtime.create(state_dir, make_spec(rootfs, ["sleep", "100"]), IOConfig())
    runtime.delete(state_dir)
    time.sleep(0.1)
    with pytest.raises(ProcessLookupError):
        import os

        os.kill(pid, 0)


def test_attach_after_exit_gives_eof(runtime, state_dir, rootfs):
    run_task(runtime, state_dir, make_spec(rootfs, ["true"]))
    sock = runtime.attach(state_dir, False, True, True)
    assert sock.recv(10) == b""
    sock.close()

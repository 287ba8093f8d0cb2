"""The `dockyard` launcher and its warm CLI server, against a real daemon: every command answers
as the Python entry point does (output, errors, exit codes, stdin, cwd, umask, signals), and
what cannot go through the server falls back to it (docs/decisions/0085-cli-command-server.md)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from dockyard.cli.commandserver import stop_servers
from tests.e2e.daemon import ENTRY_POINT, REPO
from tests.e2e.test_tty import Terminal

pytestmark = pytest.mark.root

SOURCE = REPO / "src" / "dockyard" / "cli" / "launcher" / "dockyard.c"


@pytest.fixture(scope="module")
def launcher(tmp_path_factory):
    """The launcher built from this checkout, its servers' sockets in a private directory; every
    server it started is stopped afterwards, by the PID it wrote."""
    base = tmp_path_factory.mktemp("launcher")
    binary = base / "dockyard"
    subprocess.run(
        ["gcc", "-O2", "-Wall", "-Werror", f'-DPYTHON="{sys.executable}"', f'-DENTRY_POINT="{ENTRY_POINT}"']
        + ["-o", str(binary), str(SOURCE)],
        check=True,
    )
    sockets = base / "servers"
    sockets.mkdir(mode=0o700)
    yield Launcher(binary, sockets)
    stop_servers(str(sockets))


class Launcher:
    def __init__(self, binary: Path, sockets: Path) -> None:
        self.binary = binary
        self.sockets = sockets

    def env(self, **extra: str) -> dict[str, str]:
        """The test's environment (buffered output, as a user's shell has it) with these servers."""
        base = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
        return {**base, "DOCKYARD_CLI_DIR": str(self.sockets), **extra}

    def run(self, daemon, *args: str, binary: str | None = None, **options) -> subprocess.CompletedProcess:
        argv = [binary or str(self.binary), "-H", daemon.host, *args]
        options.setdefault("env", self.env())
        return subprocess.run(argv, capture_output=True, timeout=60, **options)

    def servers(self) -> list[int]:
        return [int(p.read_text()) for p in self.sockets.glob("*.pid")]

    def warm(self, daemon) -> int:
        """Start the server for the test's environment (the first command falls back and starts
        it) and return its PID once it serves."""
        self.run(daemon, "version")
        return wait_for(self.server, timeout=20)

    def server(self) -> int | None:
        """The PID of the server for the test's environment, once it serves."""
        try:
            return int((self.sockets / f"{socket_name(self.env())}.pid").read_text())
        except (FileNotFoundError, ValueError):
            return None


def socket_name(env: dict[str, str]) -> str:
    """The launcher's name for the server of `env`: FNV-1a over the interpreter's path and the
    sorted PYTHON*, LC_* and LANG entries (another environment has a server of its own)."""
    digest = 0xCBF29CE484222325

    def mix(digest: int, text: str) -> int:
        for byte in [*os.fsencode(text), ord("\n")]:
            digest = ((digest ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
        return digest

    digest = mix(digest, sys.executable)
    for entry in sorted(f"{k}={v}" for k, v in env.items() if k.startswith(("PYTHON", "LC_")) or k == "LANG"):
        digest = mix(digest, entry)
    return f"server-{digest:016x}.sock"


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def wait_for(predicate, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out")


COMMANDS = [
    ("version", "--format", "{{.Client.Version}}"),
    ("--help",),
    ("ps", "-a", "--format", "{{.Names}} {{.Status}}"),
    ("images", "--format", "{{.Repository}}:{{.Tag}}"),
    ("inspect", "no-such-thing"),
    ("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"),
    ("run", "--rm", "busybox", "no-such-binary"),
    ("nonsense",),
    ("ps", "--no-such-flag"),
    ("--bogus-global",),
    ("daemon", "--help"),
    ("ps", "--help"),
    ("images", "--format", "{{.ID}}", "--filter", "dangling=nope"),
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_command_answers_as_the_entry_point_does(daemon, launcher, args):
    server = launcher.warm(daemon)
    through_server = launcher.run(daemon, *args)
    direct = launcher.run(daemon, *args, binary=ENTRY_POINT)
    assert (through_server.returncode, through_server.stdout, through_server.stderr) == (
        direct.returncode,
        direct.stdout,
        direct.stderr,
    )
    assert server in launcher.servers()  # the same server answered: no restart, no second one


def test_a_command_runs_in_a_child_of_the_server_and_signals_reach_it(daemon, launcher):
    server = launcher.warm(daemon)
    trap = "trap 'exit 7' TERM; echo ready; sleep 60 & wait"
    client = subprocess.Popen(
        [str(launcher.binary), "-H", daemon.host, "run", "--rm", "busybox", "sh", "-c", trap],
        env=launcher.env(),
        stdout=subprocess.PIPE,
    )
    try:
        assert client.stdout.readline() == b"ready\n"
        assert os.readlink(f"/proc/{client.pid}/exe") == str(launcher.binary)  # not exec'd into Python
        assert wait_for(lambda: children(server))
        client.send_signal(signal.SIGTERM)  # forwarded to the child, which proxies it to the container
        assert client.wait(timeout=30) == 7
    finally:
        client.kill()
        client.wait()


def test_stdin_cwd_and_umask_are_the_callers(daemon, launcher, tmp_path):
    launcher.warm(daemon)
    echoed = launcher.run(daemon, "run", "-i", "--rm", "busybox", "cat", input=b"from stdin\n")
    assert echoed.stdout == b"from stdin\n"

    def save(name: str, binary: str) -> int:
        umasked = ["sh", "-c", 'umask 027 && exec "$@"', "sh", binary, "-H", daemon.host, "save", "-o", name, "busybox"]
        subprocess.run(umasked, cwd=tmp_path, env=launcher.env(), check=True, timeout=60)
        return (tmp_path / name).stat().st_mode & 0o777

    assert save("through-server.tar", str(launcher.binary)) == save("direct.tar", ENTRY_POINT) == 0o640
    assert (tmp_path / "through-server.tar").read_bytes()[:100] == (tmp_path / "direct.tar").read_bytes()[:100]


def test_a_killed_launcher_ends_its_command_and_a_killed_command_its_launcher(daemon, launcher):
    server = launcher.warm(daemon)
    for victim in ("launcher", "command"):
        client = subprocess.Popen(
            [str(launcher.binary), "-H", daemon.host, "events"], env=launcher.env(), stdout=subprocess.DEVNULL
        )
        try:
            (command,) = wait_for(lambda: children(server))
            if victim == "launcher":
                client.kill()
                client.wait()
                wait_for(lambda gone=command: gone not in children(server))
            else:
                os.kill(command, signal.SIGKILL)
                assert client.wait(timeout=10) == -signal.SIGKILL
        finally:
            client.kill()
            client.wait()


def test_concurrent_commands_each_get_their_own_answer(daemon, launcher):
    launcher.warm(daemon)
    names = [f"launcher-{i}" for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda n: launcher.run(daemon, "run", "--name", n, "busybox", "echo", n), names))
    try:
        assert [r.stdout.decode().strip() for r in results] == names
        assert all(r.returncode == 0 for r in results)
    finally:
        launcher.run(daemon, "rm", "-f", *names)


def test_changed_code_restarts_the_server(daemon, launcher):
    server = launcher.warm(daemon)
    imported = [sys.executable, "-P", "-c", "import dockyard.cli.commandserver as m; print(m.__file__)"]
    module = Path(
        subprocess.run(imported, env=launcher.env(), capture_output=True, text=True, check=True).stdout.strip()
    )
    before = module.stat()  # the file the server loaded (the environment's install may be another checkout)
    os.utime(module, ns=(before.st_atime_ns, before.st_mtime_ns + 1))
    try:
        answer = launcher.run(daemon, "version", "--format", "{{.Client.Version}}")  # the entry point answers
        assert answer.returncode == 0 and answer.stdout.strip()
        wait_for(lambda: _state(server) in ("gone", "Z"))
        assert wait_for(lambda: launcher.server() not in (None, server))  # the next one, started by the launcher
    finally:
        os.utime(module, ns=(before.st_atime_ns, before.st_mtime_ns))
    stop_servers(str(launcher.sockets))


def test_no_server_when_switched_off_or_the_directory_is_not_private(daemon, launcher, tmp_path):
    stop_servers(str(launcher.sockets))
    off = launcher.run(daemon, "version", "--format", "x", env=launcher.env(DOCKYARD_CLI_SERVER="0"))
    assert off.stdout == b"x\n"
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    loose = launcher.run(daemon, "version", "--format", "x", env=launcher.env(DOCKYARD_CLI_DIR=str(shared)))
    assert loose.stdout == b"x\n"
    daemon_help = launcher.run(daemon, "daemon", "--help")  # the daemon's own program, straight away
    assert daemon_help.returncode == 0 and b"daemon" in daemon_help.stdout
    time.sleep(0.5)
    assert list(shared.iterdir()) == []
    assert not list(launcher.sockets.glob("*.sock"))


def test_a_terminal_session_goes_through_the_server(daemon, launcher):
    """`run -it` in a real pty: raw mode, typing, a resize (SIGWINCH forwarded), the exit code;
    then Ctrl-C typed at an attached run without -t: the terminal's SIGINT reaches the container
    (whether or not the caller ignored SIGINT, as a background job's caller does: `run`
    proxies it all the same)."""
    server = launcher.warm(daemon)
    env = {**launcher.env(), "TERM": "xterm"}
    term = Terminal([str(launcher.binary), "-H", daemon.host, "run", "-it", "--rm", "busybox", "sh"], env)
    try:
        term.expect(r"# ")
        assert os.readlink(f"/proc/{term.pid}/exe") == str(launcher.binary) and children(server)
        term.type("stty size\r")
        term.expect(r"24 80\r\n")
        term.resize(30, 100)
        time.sleep(0.5)
        term.type("stty size\r")
        term.expect(r"30 100\r\n")
        term.type("exit 3\r")
        assert term.exit_code() == 3
    finally:
        end(term)

    trap = "trap 'echo caught; exit 9' INT; echo ready; sleep 60 & wait"
    for ignoring in (False, True):
        argv = [str(launcher.binary), "-H", daemon.host, "run", "--rm", "busybox", "sh", "-c", trap]
        term = Terminal([sys.executable, "-c", IGNORE_SIGINT, *argv] if ignoring else argv, env)
        try:
            term.expect(r"ready")
            term.type("\x03")
            term.expect(r"caught")
            assert term.exit_code() == 9
        finally:
            end(term)


IGNORE_SIGINT = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); os.execv(sys.argv[1], sys.argv[1:])"
)


def end(term: Terminal) -> None:
    """Kill what a terminal test started if it is still there (a failed expect leaves it)."""
    try:
        if os.waitpid(term.pid, os.WNOHANG) == (0, 0):  # not reaped yet: still ours to kill
            os.kill(term.pid, signal.SIGKILL)
            os.waitpid(term.pid, 0)
    except ChildProcessError:
        pass
    try:
        os.close(term.fd)
    except OSError:
        pass


def test_the_callers_time_zone_is_the_commands(daemon, launcher):
    launcher.warm(daemon)
    created = {}
    for zone in ("UTC", "Asia/Tokyo"):
        env = launcher.env(TZ=zone)
        through_server = launcher.run(daemon, "images", "--format", "{{.CreatedAt}}", "busybox", env=env)
        direct = launcher.run(daemon, "images", "--format", "{{.CreatedAt}}", "busybox", env=env, binary=ENTRY_POINT)
        assert through_server.stdout == direct.stdout
        created[zone] = through_server.stdout
    assert b"+0900 JST" in created["Asia/Tokyo"] and b"+0000 UTC" in created["UTC"]


def test_a_command_holds_none_of_the_servers_descriptors(daemon, launcher):
    server = launcher.warm(daemon)
    argv = [str(launcher.binary), "-H", daemon.host, "events"]
    first = subprocess.Popen(argv, env=launcher.env(), stdout=subprocess.DEVNULL)
    second = None
    try:
        wait_for(lambda: len(children(server)) == 1)
        second = subprocess.Popen(argv, env=launcher.env(), stdout=subprocess.DEVNULL)
        newest = wait_for(lambda: len(children(server)) == 2 and max(children(server)))
        time.sleep(0.3)  # connected to the daemon
        fds = {int(fd): os.readlink(f"/proc/{newest}/fd/{fd}") for fd in os.listdir(f"/proc/{newest}/fd")}
        assert fds[1] == "/dev/null"
        others = [target for fd, target in fds.items() if fd > 2]
        servers = {os.readlink(f"/proc/{server}/fd/{fd}") for fd in os.listdir(f"/proc/{server}/fd")}
        assert others and all(t.startswith("socket:") and t not in servers for t in others), fds  # its own
    finally:
        for client in (first, second):
            if client is not None:
                client.kill()
                client.wait()


def test_a_caller_with_other_groups_runs_the_entry_point(daemon, launcher):
    """The server's children have its groups: a caller with others (after `newgrp`, say) must not
    borrow them, so it runs the command in its own process."""
    server = launcher.warm(daemon)
    argv = ["setpriv", "--groups", "0,4242", str(launcher.binary), "-H", daemon.host, "events"]
    client = subprocess.Popen(argv, env=launcher.env(), stdout=subprocess.DEVNULL)
    try:
        wait_for(lambda: os.readlink(f"/proc/{client.pid}/exe") == os.path.realpath(sys.executable))
        groups = next(
            line for line in Path(f"/proc/{client.pid}/status").read_text().splitlines() if line.startswith("Groups:")
        )
        assert "4242" in groups.split() and children(server) == []
    finally:
        client.kill()
        client.wait()


def test_a_closed_reader_exits_as_the_entry_point_does(daemon, launcher):
    """`dockyard ... | (reader gone)`: 141, as a Go CLI killed by SIGPIPE, through both, buffered or not."""
    launcher.warm(daemon)
    for binary in (str(launcher.binary), ENTRY_POINT):
        for unbuffered in ("", "1"):
            script = f'"{binary}" -H {daemon.host} ps -a --no-trunc; echo $? >&2'
            env = launcher.env(PYTHONUNBUFFERED=unbuffered) if unbuffered else launcher.env()
            shell = ["sh", "-c", f"({script}) | (exec 0<&-; sleep 0.3)"]
            done = subprocess.run(shell, env=env, capture_output=True, timeout=60)
            assert done.stderr.decode().split()[-1] == "141", (binary, unbuffered, done.stderr)


def test_signals_the_caller_ignores_stay_ignored_and_ctrl_z_stops_the_command(daemon, launcher):
    server = launcher.warm(daemon)
    # a caller that ignores SIGHUP (nohup): its command survives the hang-up signal; the launcher
    # in a process group of its own under this one's session, so a SIGTSTP stops it
    client = subprocess.Popen(
        ["nohup", str(launcher.binary), "-H", daemon.host, "events"],
        env=launcher.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        process_group=0,
    )
    try:
        (command,) = wait_for(lambda: children(server))
        client.send_signal(signal.SIGHUP)
        time.sleep(0.3)
        assert client.poll() is None and _state(command) in ("S", "R")
        client.send_signal(signal.SIGTSTP)  # the command stops with its launcher
        wait_for(lambda: _state(command) == "T" and _state(client.pid) == "T")
        client.send_signal(signal.SIGCONT)
        wait_for(lambda: _state(command) in ("S", "R"))
    finally:
        client.kill()
        client.wait()
    wait_for(lambda: not children(server))  # the launcher killed outright: its command too


def test_ctrl_z_in_an_orphaned_process_group_stops_nothing(daemon, launcher):
    """The kernel drops a SIGTSTP's stop in an orphaned process group (a new session here):
    the launcher goes on, and so does its command, as the entry point's process would."""
    server = launcher.warm(daemon)
    client = subprocess.Popen(
        [str(launcher.binary), "-H", daemon.host, "events"],
        env=launcher.env(),
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        (command,) = wait_for(lambda: children(server))
        client.send_signal(signal.SIGTSTP)
        time.sleep(0.5)
        assert _state(client.pid) in ("S", "R") and _state(command) in ("S", "R")
    finally:
        client.kill()
        client.wait()
    wait_for(lambda: not children(server))


def test_silent_connections_are_dropped_and_hold_nobody_up(daemon, launcher):
    server = launcher.warm(daemon)
    (path,) = [p.with_suffix("") for p in launcher.sockets.glob("*.sock.pid") if int(p.read_text()) == server]
    idle = []
    try:
        for _ in range(20):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            sock.connect(str(path))
            idle.append(sock)
        answer = launcher.run(daemon, "version", "--format", "x")
        assert answer.stdout == b"x\n" and server in launcher.servers()
        for sock in idle:
            sock.settimeout(10)
            assert sock.recv(16) == b""  # hung up on after REQUEST_SECONDS
    finally:
        for sock in idle:
            sock.close()


def test_a_background_job_on_a_terminal_runs_the_entry_point(daemon, launcher):
    """Job control cannot stop a server's child reading the terminal: a launcher that is not in
    the terminal's foreground runs the command itself, where SIGTTIN/SIGTTOU work."""
    server = launcher.warm(daemon)
    script = f"set -m; {launcher.binary} -H {daemon.host} events & echo job=$!; wait"
    term = Terminal(["/bin/sh", "-c", script], launcher.env())
    job = int(term.expect(r"job=(\d+)").group(1))
    try:
        wait_for(lambda: os.readlink(f"/proc/{job}/exe") == os.path.realpath(sys.executable))
        assert children(server) == []
    finally:
        os.kill(job, signal.SIGKILL)
        os.kill(term.pid, signal.SIGKILL)
        os.waitpid(term.pid, 0)
        os.close(term.fd)


def test_a_caller_in_other_namespaces_runs_the_entry_point(daemon, launcher, tmp_path):
    """A caller in its own mount namespace sees other files than the server's child would: the
    image saved into its tmpfs is gone with that namespace, not left where the server sees."""
    server = launcher.warm(daemon)
    save = f"{launcher.binary} -H {daemon.host} save -o {tmp_path}/b.tar busybox"
    script = f"mount -t tmpfs none {tmp_path} && {save} && test -s {tmp_path}/b.tar"
    unshare = ["unshare", "-m", "--propagation", "private", "sh", "-c", script]
    subprocess.run(unshare, env=launcher.env(), check=True, timeout=60)
    assert not (tmp_path / "b.tar").exists()
    assert children(server) == []


def test_a_socket_owned_by_another_user_is_never_used(daemon, launcher, tmp_path):
    """A server socket in the directory that belongs to somebody else (a swapped path) is refused:
    the command runs through the entry point, and nothing is sent to that socket."""
    sockets = tmp_path / "servers"
    sockets.mkdir(mode=0o700)
    env = launcher.env(DOCKYARD_CLI_DIR=str(sockets))
    launcher.run(daemon, "version", env=env)  # names the socket the server makes
    (name,) = wait_for(lambda: [p.name for p in sockets.glob("*.sock")])
    stop_servers(str(sockets))
    public = Path(tempfile.mkdtemp(dir=tmp_path.parent.parent.parent))  # /tmp: the impostor can reach it
    public.chmod(0o777)
    listen = (
        "import socket, sys; s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.bind(sys.argv[1]); "
        "s.listen(); s.settimeout(20); print('up', flush=True); c, _ = s.accept(); c.settimeout(20); "
        "print('got', c.recv(100), flush=True)"
    )
    nobody = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]
    impostor = subprocess.Popen(
        [*nobody, "/usr/bin/python3", "-c", listen, str(public / "impostor.sock")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert impostor.stdout.readline() == "up\n"
        os.rename(public / "impostor.sock", sockets / name)
        answer = launcher.run(daemon, "version", "--format", "x", env=env)
        assert answer.stdout == b"x\n"
        assert impostor.stdout.readline() == "got b''\n"  # hung up on at once: no request, no descriptors
    finally:
        impostor.kill()
        impostor.wait()
        shutil.rmtree(public)
        stop_servers(str(sockets))


def test_a_relative_socket_directory_is_not_used(daemon, launcher, tmp_path):
    answer = launcher.run(
        daemon, "version", "--format", "x", env=launcher.env(DOCKYARD_CLI_DIR="relative"), cwd=tmp_path
    )
    assert answer.stdout == b"x\n"
    assert not (tmp_path / "relative").exists()

"""The CLI's command server: a warm interpreter that forks a child per `dockyard` command.

    python -P -c 'from dockyard.cli.commandserver import main; raise SystemExit(main())' SOCKET

The `dockyard` launcher (cli/launcher/dockyard.c) starts one per user and set of interpreter
settings, and sends it each command line with its cwd, umask, environment and standard
descriptors; the child runs the command with the CLI already imported, so a command costs a
fork instead of an interpreter's start-up and imports (docs/decisions/0085-cli-command-server.md).
What the child cannot do as the user's own process (the daemon, the registry server, a
password prompt on /dev/tty) is answered "fallback" and runs in the Python entry point. The
server exits once it has been idle for IDLE_SECONDS, or when its code changes on disk.
"""

from __future__ import annotations

import fcntl
import gc
import io
import os
import selectors
import signal
import socket
import sys
import time
from dataclasses import dataclass

from dockyard.cli import main as cli

IDLE_SECONDS = 1800.0
PROTOCOL = b"dockyard-cli 1"
MAX_REQUEST = 4 << 20
OWN_PROCESS = frozenset({"daemon", "registry", "login"})  # verbs the Python entry point runs


@dataclass(frozen=True, slots=True)
class Request:
    """One command line, as the launcher sent it."""

    cwd: str
    umask: int
    argv: list[str]
    env: dict[str, str]


def parse_request(data: bytes) -> Request:
    """Decode the launcher's packet: protocol, cwd, umask, argc, argv..., envc, env...; ValueError if malformed."""
    fields = data.split(b"\0")
    if fields[-1:] != [b""] or fields[0] != PROTOCOL or len(fields) < 6:
        raise ValueError("not a dockyard-cli request")
    last = len(fields) - 1  # the empty field after the final NUL
    cwd, umask, argc = fields[1], int(fields[2], 8), int(fields[3])
    if argc < 1 or 4 + argc >= last:
        raise ValueError("truncated dockyard-cli request")
    argv, envc = fields[4 : 4 + argc], int(fields[4 + argc])
    if envc < 0 or 5 + argc + envc != last:
        raise ValueError("truncated dockyard-cli request")
    entries = fields[5 + argc : last]
    env = {}
    for entry in entries:
        name, sep, value = entry.partition(b"=")
        if sep:
            env[os.fsdecode(name)] = os.fsdecode(value)
    return Request(os.fsdecode(cwd), umask, [os.fsdecode(a) for a in argv], env)


def needs_own_process(argv: list[str]) -> bool:
    """True for the verbs that must not run in a forked child of this server."""
    try:
        _, args = cli.split_globals(argv[1:])
    except SystemExit:  # a bad global flag: the entry point prints the usage error
        return True
    return bool(args) and args[0] in OWN_PROCESS


class CodeStamp:
    """The dockyard modules this server loaded and the import path's directories (an install
    re-pointed to another checkout changes site-packages), to notice code changing under it."""

    def __init__(self) -> None:
        self.files = {path: self._stat(path) for path in self._paths()}

    @staticmethod
    def _paths() -> list[str]:
        modules = [
            module.__file__
            for name, module in list(sys.modules.items())
            if (name == "dockyard" or name.startswith("dockyard.")) and getattr(module, "__file__", None)
        ]
        return [*modules, *(entry for entry in sys.path if os.path.isdir(entry))]

    @staticmethod
    def _stat(path: str) -> tuple[int, int] | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def changed(self) -> bool:
        return any(self._stat(path) != stamp for path, stamp in self.files.items())


def preload() -> None:
    """Import every verb's module (and what they import) once, before any fork."""
    targets = {*cli.VERBS.values(), *(t for group in cli.MANAGEMENT.values() for t in group.values())}
    for target in sorted(targets):
        __import__(f"dockyard.cli.commands.{target.partition(':')[0]}")
    for name in ("dockyard.cli.client", "dockyard.cli.attachment", "dockyard.errors"):
        __import__(name)


def run_child(request: Request, fds: list[int]) -> int:
    """In the forked child: become the user's command, run it, return its exit code.

    The caller ends the child with os._exit (the server's own exit handlers are not the
    command's): the CLI registers no atexit handlers and starts only daemon threads, so
    flushing the streams is all the interpreter's exit would have done for it."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    for fd in fds:
        if fd > 2:
            os.close(fd)
    os.umask(request.umask)
    os.environ.clear()
    os.environ.update(request.env)
    time.tzset()  # local times as the caller's TZ has them
    sys.argv = list(request.argv)
    _fresh_stdio()
    try:
        os.chdir(request.cwd)
        code = cli.run(request.argv[1:])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else _say(exc.code))
    except KeyboardInterrupt:
        code = 130
    except BaseException:  # the interpreter's own report of an uncaught error, and its exit 1
        import traceback

        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass
    return code


def _say(message: object) -> int:
    sys.stderr.write(f"{message}\n")
    return 1


def _fresh_stdio() -> None:
    """Standard streams over the user's descriptors, buffered as the interpreter would at start-up."""
    encoding, errors = sys.stdout.encoding, sys.stdout.errors
    sys.stdin = sys.__stdin__ = open(0, encoding=encoding, errors=sys.stdin.errors, closefd=False)  # noqa: SIM115
    sys.stdout = sys.__stdout__ = open(1, "w", encoding=encoding, errors=errors, closefd=False)  # noqa: SIM115
    sys.stderr = sys.__stderr__ = io.TextIOWrapper(
        open(2, "wb", closefd=False),  # noqa: SIM115
        encoding=encoding,
        errors="backslashreplace",
        line_buffering=True,
    )
    if os.isatty(1):
        sys.stdout.reconfigure(line_buffering=True)


class Server:
    """Accepts launchers' requests, forks their children, and reports each child's end.

    One thread, one selector: the listening socket, each connection until its request is in,
    each child's pidfd with its launcher's connection (a hang-up there ends the child), and the
    signal wake-up pipe (SIGTERM: stop taking commands, exit once the children have ended)."""

    def __init__(self, bound: Bound) -> None:
        self.bound = bound
        self.selector = selectors.DefaultSelector()
        self.selector.register(bound.sock, selectors.EVENT_READ, self._accept)
        self.wakeup_r, self.wakeup_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.selector.register(self.wakeup_r, selectors.EVENT_READ, self._signalled)
        self.stamp = CodeStamp()
        self.children: dict[int, tuple[int, socket.socket]] = {}  # pidfd -> (pid, connection)
        self.watched: set[socket.socket] = set()  # children's connections whose launcher may hang up
        self.last_active = time.monotonic()
        self.stopping = False

    def serve(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: None)  # handled through the wake-up pipe
        signal.set_wakeup_fd(self.wakeup_w)
        self.bound.write_pid()
        while not (self.stopping and not self.children):
            for key, _ in self.selector.select(timeout=60):
                key.data(key.fileobj)
            if self.children:
                self.last_active = time.monotonic()
            elif time.monotonic() - self.last_active > IDLE_SECONDS:
                return

    def stop_accepting(self) -> None:
        """Take no more commands: the socket goes, the running children finish."""
        if not self.stopping:
            self.stopping = True
            self.selector.unregister(self.bound.sock)
            self.bound.close()

    def _signalled(self, fd: int) -> None:
        if signal.SIGTERM in os.read(fd, 64):
            self.stop_accepting()

    def _accept(self, sock: socket.socket) -> None:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        self.last_active = time.monotonic()
        conn.setblocking(False)
        self.selector.register(conn, selectors.EVENT_READ, self._request)

    def _request(self, conn: socket.socket) -> None:
        """The launcher's packet is in (or it hung up): answer it."""
        self.selector.unregister(conn)
        fds: list[int] = []
        try:
            data, ancillary, _, _ = conn.recvmsg(MAX_REQUEST, socket.CMSG_SPACE(3 * 4), socket.MSG_CMSG_CLOEXEC)
            for level, kind, payload in ancillary:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.extend(int.from_bytes(payload[i : i + 4], sys.byteorder) for i in range(0, len(payload), 4))
            request = parse_request(data)
            uid, groups = _peer_credentials(conn)
            if uid != os.getuid() or len(fds) != 3:
                raise ValueError("a request from another user, or without its three descriptors")
            if groups != _own_groups():  # e.g. after `newgrp`: the command must have the caller's groups
                conn.send(b"fallback")
                conn.close()
                return
            self._answer(conn, request, fds)
        except (OSError, ValueError):
            conn.close()
        finally:
            for fd in fds:
                os.close(fd)

    def _answer(self, conn: socket.socket, request: Request, fds: list[int]) -> None:
        if self.stamp.changed():
            conn.send(b"restart")
            conn.close()
            self.stop_accepting()
            return
        if needs_own_process(request.argv):
            conn.send(b"fallback")
            conn.close()
            return
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                self._forget_in_child(conn)
                code = run_child(request, fds)
            finally:
                os._exit(code & 0xFF)
        pidfd = os.pidfd_open(pid)
        self.children[pidfd] = (pid, conn)
        self.selector.register(pidfd, selectors.EVENT_READ, self._reap)
        self.selector.register(conn, selectors.EVENT_READ, self._client_gone)
        self.watched.add(conn)
        try:
            conn.send(f"pid {pid}".encode())
        except OSError:
            self._client_gone(conn)

    def _forget_in_child(self, conn: socket.socket) -> None:
        """The forked child keeps none of the server's descriptors or signal handling."""
        signal.set_wakeup_fd(-1)
        _default_signals()
        for key in list(self.selector.get_map().values()):  # the socket, pipe, pidfds, connections
            if isinstance(key.fileobj, int):
                os.close(key.fileobj)
            else:
                key.fileobj.close()
        self.selector.close()
        os.close(self.wakeup_w)
        if not self.stopping:
            os.close(self.bound.lock)
        conn.close()
        for _, other in self.children.values():  # connections no longer watched
            other.close()

    def _reap(self, pidfd: int) -> None:
        pid, conn = self.children.pop(pidfd)
        self.selector.unregister(pidfd)
        if conn in self.watched:
            self.watched.discard(conn)
            self.selector.unregister(conn)
        os.close(pidfd)
        _, status = os.waitpid(pid, 0)
        reply = (
            f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit {os.waitstatus_to_exitcode(status)}"
        )
        try:
            conn.send(reply.encode())
        except OSError:
            pass
        conn.close()

    def _client_gone(self, conn: socket.socket) -> None:
        """The launcher died (killed, or its terminal hung up): so does its command."""
        self.watched.discard(conn)
        self.selector.unregister(conn)
        for pid, other in self.children.values():
            if other is conn:
                os.kill(pid, signal.SIGHUP)


SO_PEERGROUPS = 59  # Linux 4.13; not named by the socket module


def _peer_credentials(conn: socket.socket) -> tuple[int, frozenset[int]]:
    """The launcher's uid, and its gid with its supplementary groups."""
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
    # more than 256 groups: ERANGE, and the launcher, hung up on, runs the entry point
    raw = conn.getsockopt(socket.SOL_SOCKET, SO_PEERGROUPS, 1024)
    groups = {int.from_bytes(raw[i : i + 4], sys.byteorder) for i in range(0, len(raw), 4)}
    return int.from_bytes(creds[4:8], sys.byteorder), frozenset({int.from_bytes(creds[8:12], sys.byteorder), *groups})


def _own_groups() -> frozenset[int]:
    return frozenset({os.getgid(), *os.getgroups()})


def _default_signals() -> None:
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)


def stop_servers(directory: str, timeout: float = 5.0) -> list[int]:
    """Stop the servers whose pid files are in `directory` (SIGTERM, then SIGKILL after
    `timeout`); their PIDs. For whoever set DOCKYARD_CLI_DIR: a test or a benchmark."""
    pids = []
    for name in os.listdir(directory):
        if name.endswith(".sock.pid"):
            try:
                with open(os.path.join(directory, name)) as pidfile:
                    pids.append(int(pidfile.read()))
            except (OSError, ValueError):
                continue
    for pid in pids:
        try:
            pidfd = os.pidfd_open(pid)
        except ProcessLookupError:
            continue
        try:
            os.kill(pid, signal.SIGTERM)
            if not _exited(pidfd, timeout):
                os.kill(pid, signal.SIGKILL)
        finally:
            os.close(pidfd)
    return pids


def _exited(pidfd: int, timeout: float) -> bool:
    with selectors.DefaultSelector() as selector:
        selector.register(pidfd, selectors.EVENT_READ)
        return bool(selector.select(timeout))


@dataclass(slots=True)
class Bound:
    """The server's socket at `path`, its pid file, and the flock on `path`.lock that makes it
    the path's one server (held until the server stops taking commands)."""

    path: str
    sock: socket.socket
    inode: int
    lock: int
    pid_inode: int = -1

    def write_pid(self) -> None:
        """Name this server's PID beside its socket, for whoever stops it (once SIGTERM is handled)."""
        with open(f"{self.path}.pid", "w") as pidfile:
            pidfile.write(f"{os.getpid()}\n")
            self.pid_inode = os.fstat(pidfile.fileno()).st_ino

    def close(self) -> None:
        """Give the path up (its pid file, the socket, then the lock) for the next server to take."""
        for name, inode in ((f"{self.path}.pid", self.pid_inode), (self.path, self.inode)):
            try:
                if os.stat(name).st_ino == inode:  # not a newer server's
                    os.unlink(name)
            except OSError:
                pass
        self.sock.close()
        os.close(self.lock)


def listen(path: str) -> Bound | None:
    """Bind `path` unless another server holds its lock; None then."""
    lock = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(lock)
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    sock.bind(path)
    sock.listen(64)
    return Bound(path, sock, os.stat(path).st_ino, lock)


def main(argv: list[str] | None = None) -> int:
    path = (argv if argv is not None else sys.argv[1:])[0]
    os.umask(0o077)
    bound = listen(path)
    if bound is None:
        return 0
    preload()
    server = Server(bound)
    gc.freeze()  # the children share these pages instead of copying them when the collector runs
    try:
        server.serve()
    finally:
        server.stop_accepting()
    return 0

"""The CLI's command server: a warm interpreter that forks a child per `dockyard` command.

    python -P -c 'from dockyard.cli.commandserver import main; raise SystemExit(main())' SOCKET

The `dockyard` launcher (cli/launcher/dockyard.c) starts one per user and set of interpreter
settings, and sends it each command line with its umask, signal dispositions, environment,
standard descriptors and cwd; the child runs the command with the CLI already imported, so a
command costs a fork instead of an interpreter's start-up and imports
(docs/decisions/0085-cli-command-server.md). What the child cannot do as the caller's own
process (the daemon, the registry server, a password prompt on /dev/tty, a caller in other
namespaces or with other groups) is answered "fallback" and runs in the Python entry point.
The server exits once it has been idle for IDLE_SECONDS, on SIGTERM once its commands have
ended, or when its code changes on disk.
"""

from __future__ import annotations

import errno
import fcntl
import gc
import io
import os
import resource
import selectors
import shutil
import signal
import socket
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from dockyard.cli import main as cli

IDLE_SECONDS = 1800.0
REQUEST_SECONDS = 2.0  # a connection that sends no request in this long is dropped
PROTOCOL = b"dockyard-cli 3"
MAX_REQUEST = 4 << 20
DESCRIPTORS = 4  # stdin, stdout, stderr, the cwd (O_PATH)
OWN_PROCESS = frozenset({"daemon", "registry", "login"})  # verbs the Python entry point runs
NAMESPACES = ("mnt", "net", "pid", "user", "uts", "ipc")
SO_PEERGROUPS = 59  # Linux 4.13; not named by the socket module
ALL_SIGNALS = frozenset(signal.valid_signals()) - {signal.SIGKILL, signal.SIGSTOP}


@dataclass(frozen=True, slots=True)
class Request:
    """One command line, as the launcher sent it."""

    umask: int
    ignored: frozenset[int]  # signals the caller ignores: its command ignores them too
    blocked: frozenset[int]  # the caller's signal mask
    argv: list[str]
    env: dict[str, str]


def parse_request(data: bytes) -> Request:
    """Decode the launcher's packet (fields: protocol, umask, ignored, blocked, argc, argv...,
    envc, env..., each NUL-terminated); ValueError if malformed."""
    fields = data.split(b"\0")
    if fields[-1:] != [b""] or fields[0] != PROTOCOL or len(fields) < 8:
        raise ValueError("not a dockyard-cli request")
    last = len(fields) - 1  # the empty field after the final NUL
    umask, ignored, blocked, argc = int(fields[1], 8), int(fields[2], 16), int(fields[3], 16), int(fields[4])
    if argc < 1 or 5 + argc >= last:
        raise ValueError("truncated dockyard-cli request")
    argv, envc = fields[5 : 5 + argc], int(fields[5 + argc])
    if envc < 0 or 6 + argc + envc != last:
        raise ValueError("truncated dockyard-cli request")
    env: dict[str, str] = {}
    for entry in fields[6 + argc : last]:
        name, sep, value = entry.partition(b"=")
        if sep:
            env.setdefault(os.fsdecode(name), os.fsdecode(value))  # the first of a repeated name, as getenv
    return Request(umask, _signal_set(ignored), _signal_set(blocked), [os.fsdecode(a) for a in argv], env)


def _signal_set(mask: int) -> frozenset[int]:
    return frozenset(sig for sig in range(1, 65) if mask >> (sig - 1) & 1)


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
    """In the forked child, signals still blocked: become the caller's command, run it, return
    its exit code.

    The caller ends the child with os._exit (the server's own exit handlers are not the
    command's): the CLI registers no atexit handlers and starts only daemon threads, so
    flushing the streams is all the interpreter's exit would have done for it."""
    stdio, cwd = fds[:3], fds[3]
    for target, fd in enumerate(stdio):
        os.dup2(fd, target)
    os.fchdir(cwd)
    for fd in fds:
        if fd > 2:
            os.close(fd)
    os.umask(request.umask)
    os.environ.clear()
    os.environ.update(request.env)
    time.tzset()  # local times as the caller's TZ has them
    sys.argv = list(request.argv)
    code = 1
    try:
        _caller_signals(request)  # a signal held since the fork arrives here, inside the try
        _fresh_stdio()
        code = cli.run(request.argv[1:])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else _say(exc.code))
    except KeyboardInterrupt:
        code = 130
    except BaseException:  # the interpreter's own report of an uncaught error, and its exit 1
        traceback.print_exc()
    return _flushed(code)


def _flushed(code: int) -> int:
    """Flush what the command wrote; a reader gone meanwhile ends it as cli.main does."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = cli.quiet_broken_pipe()
    try:
        sys.stderr.flush()
    except BrokenPipeError:
        pass
    return code


def _say(message: object) -> int:
    sys.stderr.write(f"{message}\n")
    return 1


def _caller_signals(request: Request) -> None:
    """Dispositions as the caller's interpreter would start with: what the caller ignores stays
    ignored, SIGINT raises KeyboardInterrupt, SIGPIPE and SIGXFSZ ignored (Python's start-up),
    the rest at their defaults; then the caller's mask."""
    for sig in ALL_SIGNALS:
        if sig in request.ignored or sig in (signal.SIGPIPE, signal.SIGXFSZ):
            handler: signal.Handlers | Callable = signal.SIG_IGN
        elif sig == signal.SIGINT:
            handler = signal.default_int_handler
        else:
            handler = signal.SIG_DFL
        try:
            signal.signal(sig, handler)
        except (OSError, ValueError):  # one the interpreter may not set
            pass
    signal.pthread_sigmask(signal.SIG_SETMASK, request.blocked & ALL_SIGNALS)


def _fresh_stdio() -> None:
    """Standard streams over the caller's descriptors, as the interpreter makes them at start-up
    (line-buffered on a terminal, unbuffered under PYTHONUNBUFFERED, no newline translation)."""
    encoding, errors = sys.stdout.encoding, sys.stdout.errors
    unbuffered = bool(os.environ.get("PYTHONUNBUFFERED"))  # the caller's (-u is not the launcher's to pass)

    def stream(fd: int, mode: str, errors: str, line_buffering: bool) -> io.TextIOWrapper:
        raw = io.FileIO(fd, mode, closefd=False)
        buffered = raw if unbuffered and mode == "w" else (io.BufferedWriter if mode == "w" else io.BufferedReader)(raw)
        return io.TextIOWrapper(
            buffered,  # type: ignore[arg-type]
            encoding=encoding,
            errors=errors,
            newline="\n",
            line_buffering=line_buffering,
            write_through=unbuffered and mode == "w",
        )

    sys.stdin = sys.__stdin__ = stream(0, "r", sys.stdin.errors, False)
    sys.stdout = sys.__stdout__ = stream(1, "w", errors, os.isatty(1))
    sys.stderr = sys.__stderr__ = stream(2, "w", "backslashreplace", True)


class Server:
    """Accepts launchers' requests, forks their children, and reports each child's end.

    One thread, one selector: the listening socket, each connection until its request is in
    (dropped after REQUEST_SECONDS), each child's pidfd with its launcher's connection (a
    hang-up there kills the child), and the signal wake-up pipe (SIGTERM: stop taking
    commands, exit once the children have ended)."""

    def __init__(self, bound: Bound, wakeup: tuple[int, int]) -> None:
        self.bound = bound
        self.selector = selectors.DefaultSelector()
        self.selector.register(bound.sock, selectors.EVENT_READ, self._accept)
        self.wakeup_r, self.wakeup_w = wakeup
        self.selector.register(self.wakeup_r, selectors.EVENT_READ, self._signalled)
        self.spare = _spare_descriptor()
        self.stamp = CodeStamp()
        self.namespaces = _namespaces("self")
        self.children: dict[int, tuple[int, socket.socket]] = {}  # pidfd -> (pid, connection)
        self.watched: set[socket.socket] = set()  # children's connections whose launcher may hang up
        self.pending: dict[socket.socket, float] = {}  # connections awaiting their request -> deadline
        self.paused_until = 0.0  # accepting paused after running out of descriptors
        self.last_active = time.monotonic()
        self.stopping = False

    def serve(self) -> None:
        while not (self.stopping and not self.children):
            for key, _ in self.selector.select(timeout=self._timeout()):
                if self.selector.get_map().get(key.fd) is not key:
                    continue  # unregistered by an earlier callback of this batch (a reap, then its hang-up)
                try:
                    key.data(key.fileobj)
                except Exception:  # one request's failure is not the server's: the others go on
                    traceback.print_exc()
            now = time.monotonic()
            for conn in [c for c, deadline in self.pending.items() if deadline <= now]:
                self._drop(conn)
            if self.paused_until and now >= self.paused_until and not self.stopping:
                self.paused_until = 0.0
                self.selector.register(self.bound.sock, selectors.EVENT_READ, self._accept)
            if self.children or self.pending:
                self.last_active = now
            elif now - self.last_active > IDLE_SECONDS:
                return

    def _timeout(self) -> float:
        deadlines = [*self.pending.values(), *([self.paused_until] if self.paused_until else [])]
        return max(0.0, min(deadlines) - time.monotonic()) if deadlines else 60.0

    def stop_accepting(self) -> None:
        """Take no more commands: the socket goes, the running children finish."""
        if not self.stopping:
            self.stopping = True
            if not self.paused_until:
                self.selector.unregister(self.bound.sock)
            self.paused_until = 0.0
            self.bound.close()

    def _signalled(self, fd: int) -> None:
        if signal.SIGTERM in os.read(fd, 64):
            self.stop_accepting()

    def _accept(self, sock: socket.socket) -> None:
        try:
            conn, _ = sock.accept()
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE):  # out of descriptors: let some go first
                self.selector.unregister(sock)
                self.paused_until = time.monotonic() + 0.1
            return
        self.last_active = time.monotonic()
        conn.setblocking(False)
        self.pending[conn] = self.last_active + REQUEST_SECONDS
        self.selector.register(conn, selectors.EVENT_READ, self._request)

    def _drop(self, conn: socket.socket) -> None:
        del self.pending[conn]
        self.selector.unregister(conn)
        conn.close()

    def _request(self, conn: socket.socket) -> None:
        """The launcher's packet is in (or it hung up): answer it."""
        del self.pending[conn]
        self.selector.unregister(conn)
        fds: list[int] = []
        try:
            data, ancillary, _, _ = conn.recvmsg(
                MAX_REQUEST, socket.CMSG_SPACE(DESCRIPTORS * 4), socket.MSG_CMSG_CLOEXEC
            )
            for level, kind, payload in ancillary:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.extend(int.from_bytes(payload[i : i + 4], sys.byteorder) for i in range(0, len(payload), 4))
            if self.stamp.changed() or (data.startswith(b"dockyard-cli ") and not data.startswith(PROTOCOL + b"\0")):
                self.stop_accepting()  # the path and its lock go first, for the server the launcher starts
                conn.send(b"restart")
                conn.close()
                return
            request = parse_request(data)
            pid, uid, groups = _peer_credentials(conn)
            if uid != os.getuid() or len(fds) != DESCRIPTORS:
                raise ValueError("a request from another user, or without its descriptors")
            if groups != _own_groups() or _namespaces(str(pid)) != self.namespaces or needs_own_process(request.argv):
                conn.send(b"fallback")  # the caller's own process runs it, with what it has
                conn.close()
                return
            self._start(conn, request, fds)
        except (OSError, ValueError):
            conn.close()
        finally:
            for fd in fds:
                os.close(fd)

    def _start(self, conn: socket.socket, request: Request, fds: list[int]) -> None:
        """Fork the command's child and tell the launcher its pid and pidfd. Nothing after the
        fork may fail quietly (the launcher would run the command again): the pidfd is opened on
        a descriptor kept spare for it, and a child that cannot be watched is waited for here."""
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, ALL_SIGNALS)  # none reaches the child before it is set up
        try:
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    self._forget_in_child(conn)
                    code = run_child(request, fds)
                except BaseException:
                    pass
                os._exit(code & 0xFF if isinstance(code, int) else 1)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        if self.spare >= 0:
            os.close(self.spare)
        pidfd = -1
        try:
            pidfd = os.pidfd_open(pid)
            self.selector.register(pidfd, selectors.EVENT_READ, self._reap)
        except OSError:
            if pidfd >= 0:
                os.close(pidfd)
            self._wait_here(conn, pid)
            return
        finally:
            self.spare = _spare_descriptor()
        self.children[pidfd] = (pid, conn)
        try:
            conn.sendmsg(
                [f"pid {pid}".encode()], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, pidfd.to_bytes(4, sys.byteorder))]
            )
            self.selector.register(conn, selectors.EVENT_READ, self._client_gone)
            self.watched.add(conn)
        except OSError:  # the launcher is gone already (or cannot be watched): as a hang-up
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)

    def _wait_here(self, conn: socket.socket, pid: int) -> None:
        """The last resort for a child the selector cannot watch: its end, waited for in the server."""
        try:
            conn.send(f"pid {pid}".encode())  # no pidfd: the launcher does not forward signals
        except OSError:
            pass
        _, status = os.waitpid(pid, 0)
        self._report(conn, status)

    def _forget_in_child(self, conn: socket.socket) -> None:
        """The forked child keeps none of the server's descriptors or signal handling."""
        signal.set_wakeup_fd(-1)
        for key in list(self.selector.get_map().values()):  # the socket, pipe, pidfds, connections
            if isinstance(key.fileobj, int):
                os.close(key.fileobj)
            else:
                key.fileobj.close()
        self.selector.close()
        os.close(self.wakeup_w)
        if self.spare >= 0:
            os.close(self.spare)
        if not self.stopping:
            os.close(self.bound.lock)
            if self.paused_until:
                self.bound.sock.close()
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
        self._report(conn, status)

    @staticmethod
    def _report(conn: socket.socket, status: int) -> None:
        reply = (
            f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit {os.waitstatus_to_exitcode(status)}"
        )
        try:
            conn.send(reply.encode())
        except OSError:
            pass
        conn.close()

    def _client_gone(self, conn: socket.socket) -> None:
        """The launcher is gone before its command's end: it was killed (SIGKILL, or a signal it
        does not forward) or crashed, and so is its command, as the entry point's process would
        have been."""
        if conn not in self.watched:
            return
        self.watched.discard(conn)
        self.selector.unregister(conn)
        for pidfd, (_, other) in self.children.items():
            if other is conn:
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)


def _spare_descriptor() -> int:
    """A descriptor held for the next child's pidfd (-1 if none could be had)."""
    try:
        return os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return -1


def _peer_credentials(conn: socket.socket) -> tuple[int, int, frozenset[int]]:
    """The launcher's pid and uid, and its gid with its supplementary groups."""
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
    # more than 256 groups: ERANGE, and the launcher, hung up on, runs the entry point
    raw = conn.getsockopt(socket.SOL_SOCKET, SO_PEERGROUPS, 1024)
    pid, uid, gid = (int.from_bytes(creds[i : i + 4], sys.byteorder) for i in (0, 4, 8))
    groups = {int.from_bytes(raw[i : i + 4], sys.byteorder) for i in range(0, len(raw), 4)}
    return pid, uid, frozenset({gid, *groups})


def _own_groups() -> frozenset[int]:
    return frozenset({os.getgid(), *os.getgroups()})


def _namespaces(pid: str) -> tuple[tuple[int, int], ...]:
    """The process's namespaces and root directory, as (device, inode) pairs: a caller in other
    namespaces or a chroot sees other files, networks and processes than this server's child would."""
    paths = [*(f"/proc/{pid}/ns/{kind}" for kind in NAMESPACES), f"/proc/{pid}/root"]
    return tuple((st.st_dev, st.st_ino) for st in map(os.stat, paths))


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


def stop_servers(directory: str, timeout: float = 5.0) -> list[int]:
    """Stop the servers whose pid files are in `directory` (SIGTERM, then SIGKILL after
    `timeout`); their PIDs."""
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


@contextmanager
def own_servers(prefix: str) -> Iterator[str]:
    """A directory of servers for one test run or benchmark: DOCKYARD_CLI_DIR points there
    while it lasts, then its servers are stopped, the directory removed and the variable
    restored."""
    directory = tempfile.mkdtemp(prefix=prefix)
    previous = os.environ.get("DOCKYARD_CLI_DIR")
    os.environ["DOCKYARD_CLI_DIR"] = directory
    try:
        yield directory
    finally:
        stop_servers(directory)
        shutil.rmtree(directory, ignore_errors=True)
        if previous is None:
            del os.environ["DOCKYARD_CLI_DIR"]
        else:
            os.environ["DOCKYARD_CLI_DIR"] = previous


def _exited(pidfd: int, timeout: float) -> bool:
    with selectors.DefaultSelector() as selector:
        selector.register(pidfd, selectors.EVENT_READ)
        return bool(selector.select(timeout))


def main(argv: list[str] | None = None) -> int:
    path = (argv if argv is not None else sys.argv[1:])[0]
    os.umask(0o077)
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # two per running command
    bound = listen(path)
    if bound is None:
        return 0
    wakeup = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.signal(signal.SIGTERM, lambda *_: None)  # SIGTERM arrives through the wake-up pipe,
    signal.set_wakeup_fd(wakeup[1])  # during the imports too: the pid file is written before them
    bound.write_pid()
    preload()
    server = Server(bound, wakeup)
    gc.freeze()  # the children share these pages instead of copying them when the collector runs
    try:
        server.serve()
    finally:
        server.stop_accepting()
    return 0

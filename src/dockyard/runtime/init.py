"""What runs in the task's child between fork and exec: namespaces, rootfs, identity.

The shim forks this child after unshare(CLONE_NEWPID) (init) or setns into the target's
pid namespace (exec); an init made ahead (sandbox.py) was cloned into its new namespaces and
runs this once it has its task. The child reports to the shim over `status_fd`, a CLOEXEC pipe, as
JSON lines: `{"ready": true}` once set up, `{"error": ...}` if setup failed; then, once the
shim has written one byte on `start_fd`, `{"exec_error": ..., "code": 127|126}` if the program
is missing or may not be run (Go's exec.LookPath, runc's access check), else `{"exec": true}`
just before execve. As with runc, whose start returns before its init's execve, an execve
that fails after that is the program's own failure: the reason goes to its stderr and it
exits 1.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import stat
import struct
import termios
from collections import namedtuple

from dockyard.runtime import identity, mounts, seccomp
from dockyard.runtime import syscalls as sc
from dockyard.runtime.cgroups import hierarchy

NAMESPACE_FLAGS = {
    "mount": sc.CLONE_NEWNS,
    "uts": sc.CLONE_NEWUTS,
    "ipc": sc.CLONE_NEWIPC,
    "network": sc.CLONE_NEWNET,
    "cgroup": sc.CLONE_NEWCGROUP,
    "pid": sc.CLONE_NEWPID,
}
PROC_NS_NAMES = {"mount": "mnt", "uts": "uts", "ipc": "ipc", "network": "net", "cgroup": "cgroup", "pid": "pid"}
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1

TYPE_CHECKING = False  # typing costs the shim milliseconds at start-up
if TYPE_CHECKING:
    from typing import Any, NoReturn


class ChildFds(namedtuple("ChildFds", "stdio start_fd status_fd console_fd")):
    """The fds the shim hands its child.

    stdio: (in, out, err) dup'ed onto 0, 1, 2, or None with a terminal; start_fd: one byte
    from the shim means "exec now" (None: exec once ready, a task started at once);
    status_fd: JSON lines to the shim (CLOEXEC);
    console_fd: a unix socket the pty master goes back over, or None.
    """

    __slots__ = ()


class ExecError(Exception):
    """exec failed; carries Go's wording and the exit code docker uses for it."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _report(fd: int, message: dict[str, Any]) -> None:
    os.write(fd, json.dumps(message).encode() + b"\n")


def _reset_signals() -> None:
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGCHLD, signal.SIGPIPE, signal.SIGXFSZ, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def run_init(
    spec: dict[str, Any],
    cgroup_paths: list[str],
    fds: ChildFds,
    seccomp_program: bytes | None,
    hierarchies: list[hierarchy.Hierarchy],
    made: frozenset[str] = frozenset(),
    staged: str | None = None,
    rootfs_fd: int | None = None,
) -> NoReturn:
    """Set up a container's init from `spec`, wait for start, exec. Never returns.

    `seccomp_program` is the container's seccomp profile compiled (seccomp.compile_profile);
    `hierarchies` are the host's cgroup mounts, repeated in a `cgroup` mount of the spec;
    `made` are the new namespaces the child was cloned into or unshared ahead, `staged` where
    it made the system mounts ahead and `rootfs_fd` the rootfs as a detached mount (sandbox.py)."""
    try:
        _reset_signals()
        hierarchy.join(cgroup_paths)
        namespaces = spec.get("linux", {}).get("namespaces", [])
        _enter_namespaces([ns for ns in namespaces if ns["type"] not in made])
        created = {ns["type"] for ns in namespaces if not ns.get("path")}
        if "mount" in created:
            mounts.setup_rootfs(spec, hierarchies, staged, rootfs_fd)
        if "uts" in created and spec.get("hostname"):
            socket.sethostname(spec["hostname"])
        if "network" in created:
            _loopback_up()
        _finish(spec["process"], fds, seccomp_program)
    except BaseException as exc:  # the child must never return into the shim's code
        fail(fds.status_fd, exc)


def run_exec(
    process: dict[str, Any],
    target_pid: int,
    cgroup_paths: list[str],
    fds: ChildFds,
    seccomp_program: bytes | None = None,
) -> NoReturn:
    """Join the namespaces of `target_pid` (mount last), then as run_init. Never returns."""
    try:
        _reset_signals()
        hierarchy.join(cgroup_paths)
        order = ("cgroup", "ipc", "uts", "network", "mount")
        opened = []
        for kind in order:
            path = f"/proc/{target_pid}/ns/{PROC_NS_NAMES[kind]}"
            if os.stat(path).st_ino != os.stat(f"/proc/self/ns/{PROC_NS_NAMES[kind]}").st_ino:
                opened.append(os.open(path, os.O_RDONLY))
        for fd in opened:
            sc.setns(fd)
            os.close(fd)
        os.chdir("/")
        _finish(process, fds, seccomp_program)
    except BaseException as exc:
        fail(fds.status_fd, exc)


def fail(status_fd: int, exc: BaseException) -> NoReturn:
    """Report why the child cannot go on (Go's words for an exec error), then exit."""
    try:
        if isinstance(exc, ExecError):
            _report(status_fd, {"exec_error": str(exc), "code": exc.code})
            os._exit(exc.code)
        _report(status_fd, {"error": _describe(exc)})
    finally:
        os._exit(1)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        where = f" {exc.filename}" if exc.filename else ""
        return f"{exc.strerror.lower()}:{where}".rstrip(":")
    return str(exc) or type(exc).__name__


def _enter_namespaces(namespaces: list[dict[str, str]]) -> None:
    """setns into the given paths (mount last), unshare the rest (pid is the shim's job)."""
    joins = sorted(
        (ns for ns in namespaces if ns.get("path") and ns["type"] != "pid"), key=lambda ns: ns["type"] == "mount"
    )
    fds = [os.open(ns["path"], os.O_RDONLY) for ns in joins]
    flags = 0
    for ns in namespaces:
        if ns["type"] not in NAMESPACE_FLAGS:
            raise ValueError(f"{ns['type']} namespaces are not supported")
        if not ns.get("path") and ns["type"] != "pid":
            flags |= NAMESPACE_FLAGS[ns["type"]]
    if flags:
        sc.unshare(flags)
    for fd in fds:
        sc.setns(fd)
        os.close(fd)


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s.fileno(), SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(s.fileno(), SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


def _finish(process: dict[str, Any], fds: ChildFds, seccomp_program: bytes | None) -> NoReturn:
    """Common tail: stdio or terminal, rlimits, cwd, seccomp, user and caps, ready, wait, exec.

    Without no_new_privs the seccomp filter is loaded while CAP_SYS_ADMIN is still held
    (the kernel demands one or the other), as runc does.
    """
    _stdio_and_limits(process, fds)
    cwd = process.get("cwd", "/")
    os.makedirs(cwd, 0o755, exist_ok=True)
    top = identity.last_cap()
    nnp = bool(process.get("noNewPrivileges"))
    if seccomp_program and not nnp:
        seccomp.install(seccomp_program)
    identity.become(process, top)
    if seccomp_program and nnp:
        seccomp.install(seccomp_program)
    sc.prctl(sc.PR_SET_PDEATHSIG, signal.SIGKILL)
    _enter_cwd(cwd)
    _report(fds.status_fd, {"ready": True})
    if fds.start_fd is not None and os.read(fds.start_fd, 1) != b"s":
        os._exit(1)
    close_on_exec_from(3)
    _exec(process, fds.status_fd)


def _enter_cwd(cwd: str) -> None:
    """chdir, then make sure the result is inside the container's root (CVE-2024-21626:
    a cwd through a leaked host fd, /proc/self/fd/N, would leave it)."""
    try:
        os.chdir(cwd)
    except OSError as exc:
        raise OSError(exc.errno, f'chdir to cwd ("{cwd}") set in config.json failed: {exc.strerror.lower()}') from None
    try:
        where = os.getcwd()
    except FileNotFoundError:  # the kernel's "(unreachable)/..." path: outside our root
        where = ""
    if not where.startswith("/"):
        raise OSError(
            1, "current working directory is outside of container mount namespace root -- possible container breakout"
        )


def close_on_exec_from(low: int) -> None:
    """Mark every fd from `low` up close-on-exec, so no shim or engine fd reaches the
    container's program (runc's CloseExecFrom); stdio and the status pipe stay until exec."""
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        names = [str(fd) for fd in range(low, 1024)]
    for name in names:
        fd = int(name)
        if fd >= low:
            try:
                os.set_inheritable(fd, False)
            except OSError:
                continue  # the fd listdir used, already closed


def _stdio_and_limits(process: dict[str, Any], fds: ChildFds) -> None:
    """fds 0-2 (pipes or a new terminal), rlimits, OOM score and umask."""
    user = process.get("user", {})
    if process.get("terminal"):
        _setup_terminal(fds.console_fd, user.get("uid", 0), process.get("consoleSize"))
    else:
        for target, fd in enumerate(fds.stdio or ()):
            os.dup2(fd, target)
    identity.set_rlimits(process.get("rlimits", []))
    if process.get("oomScoreAdj") is not None:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write(str(process["oomScoreAdj"]))
    if user.get("umask") is not None:
        os.umask(user["umask"])


def _setup_terminal(console_fd: int | None, uid: int, size: dict[str, int] | None) -> None:
    """A pty from the container's own devpts: master to the shim, slave becomes our tty."""
    master, slave = os.openpty()
    os.fchown(slave, uid, -1)
    if size and size.get("height") and size.get("width"):
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size["height"], size["width"], 0, 0))
    sock = socket.socket(fileno=console_fd)
    socket.send_fds(sock, [b"m"], [master])
    sock.close()
    os.close(master)
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for target in (0, 1, 2):
        os.dup2(slave, target)
    if slave > 2:
        os.close(slave)


def find_executable(name: str, path: str) -> str:
    """Go's exec.LookPath inside the container, with Go's error wording."""
    if "/" in name:
        try:
            st = os.stat(name)
        except OSError as exc:
            raise ExecError(f'exec: "{name}": stat {name}: {exc.strerror.lower()}', 127) from None
        if stat.S_ISDIR(st.st_mode) or not st.st_mode & 0o111:
            raise ExecError(f'exec: "{name}": permission denied', 126)
        if not _may_exec(name):  # runc's own check, in its words
            raise ExecError(f"exec {name}: permission denied", 126)
        return name
    for directory in path.split(":"):
        candidate = os.path.join(directory or ".", name)
        try:
            st = os.stat(candidate)
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode) and st.st_mode & 0o111 and _may_exec(candidate):
            return candidate
    raise ExecError(f'exec: "{name}": executable file not found in $PATH', 127)


def _may_exec(path: str) -> bool:
    """access(X_OK) as the container's user (real and effective ids are one after
    identity.become): false on a noexec mount, whatever the mode bits say, as runc's check
    before exec. Not faccessat2, which a seccomp profile may refuse (runc falls back then)."""
    return os.access(path, os.X_OK)


def _exec(process: dict[str, Any], status_fd: int) -> NoReturn:
    """Find the program (an ExecError fails the start), tell the shim, execve."""
    args = process["args"]
    env = dict(item.split("=", 1) for item in process.get("env", []) if "=" in item)
    executable = find_executable(args[0], env.get("PATH", DEFAULT_PATH))
    _report(status_fd, {"exec": True})
    try:
        os.execve(executable, args, env)
    except (OSError, ValueError) as exc:  # runc's words, on the program's stderr (start was answered)
        reason = exc.strerror.lower() if isinstance(exc, OSError) else "invalid argument"  # a NUL byte
        try:
            os.write(2, f"exec {executable}: {reason}\n".encode())
        finally:
            os._exit(1)

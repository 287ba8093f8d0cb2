"""`docker exec`: extra processes inside a running container, each with its own shim.

Exec instances live in memory, as in dockerd: they are gone after a daemon restart, while
their processes (owned by their shims) keep running. The container service is asked for the
container (by reference) and its rootfs; the exec's own task goes straight to the runtime.
"""

from __future__ import annotations

import secrets
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

from dockyard import detachkeys, threads
from dockyard.engine.containers import specgen
from dockyard.engine.containers.attach import DeferredStream, SocketStream
from dockyard.engine.containers.model import Container
from dockyard.engine.containers.service import ContainerService
from dockyard.engine.events import EventBus
from dockyard.errors import Conflict, DockyardError, InvalidArgument, NoSuchExec, NotFound, Unavailable
from dockyard.multiplex import STDOUT, encode_frame
from dockyard.paths import DataRoot
from dockyard.runtime.runtime import IOConfig, Runtime

LAUNCH_TIMEOUT = 10  # seconds a resize waits for an exec that is being started


@dataclass
class ExecRecord:
    id: str
    container_id: str
    config: dict
    running: bool = False
    exit_code: int | None = None
    pid: int = 0
    error: str = ""
    started: bool = field(default=False)
    launched: threading.Event = field(default_factory=threading.Event)  # its task exists, or it failed


class ExecService:
    def __init__(self, containers: ContainerService, runtime: Runtime, root: DataRoot, events: EventBus) -> None:
        self.containers, self.runtime, self.root, self.events = containers, runtime, root, events
        self._execs: dict[str, ExecRecord] = {}
        self._lock = threading.Lock()

    def exec_create(self, ref: str, config: dict) -> dict:
        container = self.containers.get(ref)
        if container.state.status != "running":
            if container.state.status == "paused":
                raise Conflict(f"Container {ref} is paused, unpause the container before exec")  # as asked, as moby
            raise Conflict(f"Container {container.id} is not running")
        command = config.get("Cmd")
        if not command:
            raise InvalidArgument("No exec command specified")
        if not isinstance(command, list) or not all(isinstance(word, str) for word in command):
            raise InvalidArgument("json: cannot unmarshal into Go struct field ExecConfig.Cmd of type []string")
        try:
            detachkeys.parse(config.get("DetachKeys"))
        except InvalidArgument:
            raise InvalidArgument(f"Invalid escape keys ({config.get('DetachKeys')}) provided") from None
        record = ExecRecord(secrets.token_hex(32), container.id, dict(config))
        self._execs[record.id] = record
        self._publish(record, container, f"exec_create: {' '.join(config['Cmd'])}")
        return {"Id": record.id}

    def _publish(self, record: ExecRecord, container: Container, action: str, **extra: str) -> None:
        attributes = {"image": container.image, "name": container.name, "execID": record.id, **extra}
        self.events.publish("container", action, container.id, attributes)

    def _watch(self, record: ExecRecord, container: Container) -> None:
        """Announce the exec's exit (exec_die with its code), as dockerd does."""
        state = self.runtime.wait(self._dir(record))
        if state.status == "stopped":
            self._publish(record, container, "exec_die", exitCode=str(state.exit_code))

    def _get(self, exec_id: str) -> ExecRecord:
        record = self._execs.get(exec_id)
        if record is None:
            raise NoSuchExec(exec_id)
        return record

    def _dir(self, record: ExecRecord) -> Path:
        return self.root.exec_dir(record.container_id, record.id)

    def exec_start(self, exec_id: str, detach: bool, tty: bool) -> DeferredStream | None:
        """Start a detached exec now; for an attached one, the stream whose opening starts it.

        Raises NoSuchExec, Conflict (already started), RuntimeFailure (detached, failed to start).
        """
        record = self._get(exec_id)
        with self._lock:  # check-and-set: two concurrent starts must not spawn two shims
            if record.started:
                state = "has already run" if not record.running else "is already running"
                raise Conflict(f"Error: Exec command {exec_id} {state}")
            record.started = True
        container = self.containers.get(record.container_id)
        if detach:
            self._launch(record, container, attached=False)
            return None
        return DeferredStream(
            bool(record.config.get("Tty")),
            lambda: self._launch(record, container, attached=True),
            detachkeys.parse(record.config.get("DetachKeys")),  # checked at create
        )

    def _launch(self, record: ExecRecord, container: Container, attached: bool) -> SocketStream | None:
        """Create the exec's task, attached if asked, and start it, in one exchange with the
        runtime. An attached exec that fails answers with the error as its output (the client
        already has its 101), as dockerd's."""
        config = record.config
        tty = bool(config.get("Tty"))
        try:
            process = self._process(record, container)
            directory = self._dir(record)
            directory.mkdir(parents=True, exist_ok=True)
            io = IOConfig(tty=tty, open_stdin=bool(config.get("AttachStdin")), stdin_once=True)
            streams = (
                bool(config.get("AttachStdin")),
                config.get("AttachStdout", True),
                config.get("AttachStderr", True),
            )
            record.pid, sock = self.runtime.run_exec(
                directory, self.root.container(container.id), process, io, streams if attached else None
            )
            record.launched.set()
            stream = SocketStream(sock, tty) if sock is not None else None
            self._publish(record, container, f"exec_start: {' '.join(config['Cmd'])}")
            threads.spawn(self._watch, record, container, name=f"exec-{record.id[:12]}")
        except DockyardError as exc:
            record.launched.set()
            # dockerd's exec: a failed start is exit code 126 (run's missing command is 127)
            record.exit_code, record.error, record.pid = 126, str(exc), 0
            if not attached:
                raise
            message = (
                str(exc)
                if isinstance(exc, InvalidArgument)
                else f"OCI runtime exec failed: exec failed: {exc}: unknown"
            )
            return SocketStream(_error_socket(f"{message}\r\n", tty), tty)
        record.running = True
        return stream

    def _process(self, record: ExecRecord, container: Container) -> dict:
        """The OCI process for an exec: the container's settings with the exec's own on top."""
        config = record.config
        return specgen.process_for(
            self.containers.rootfs(container),
            {
                **container.config,
                "Env": [*(container.config.get("Env") or []), *(config.get("Env") or [])],
                "Tty": config.get("Tty"),
            },
            config["Cmd"],
            container.config.get("Hostname") or "",
            config.get("User") or container.config.get("User") or "",
            config.get("WorkingDir") or container.config.get("WorkingDir") or "/",
            bool(config.get("Tty")),
            specgen.capabilities(
                {
                    **container.host_config,
                    "Privileged": config.get("Privileged") or container.host_config.get("Privileged"),
                }
            ),
            tuple(container.host_config.get("GroupAdd") or ()),
        )

    def _refresh(self, record: ExecRecord) -> None:
        if not record.running:
            return
        try:
            state = self.runtime.state(self._dir(record))
        except NotFound:
            record.running = False
            return
        if state.status == "stopped":
            record.running, record.exit_code = False, state.exit_code

    def exec_inspect(self, exec_id: str) -> dict:
        record = self._get(exec_id)
        self._refresh(record)
        config = record.config
        return {
            "ID": record.id,
            "Running": record.running,
            "ExitCode": record.exit_code,
            "ProcessConfig": {
                "tty": bool(config.get("Tty")),
                "entrypoint": config["Cmd"][0],
                "arguments": config["Cmd"][1:],
                "privileged": bool(config.get("Privileged")),
                **({"user": config["User"]} if config.get("User") else {}),  # omitempty
            },
            "OpenStdin": bool(config.get("AttachStdin")),
            "OpenStderr": bool(config.get("AttachStderr")),
            "OpenStdout": bool(config.get("AttachStdout")),
            "CanRemove": False,
            "ContainerID": record.container_id,
            "DetachKeys": config.get("DetachKeys") or "",
            "Pid": record.pid,  # kept after the exit, as dockerd does
        }

    def exec_resize(self, exec_id: str, height: int, width: int) -> None:
        """Resize the exec's terminal; a resize that races the exec's start waits for its task,
        as dockerd's does (clients resize right after the 101). Raises Unavailable after 10 s,
        NotFound ("no such exec", as dockerd) once its process has ended."""
        record = self._get(exec_id)
        if record.started and not record.launched.wait(LAUNCH_TIMEOUT):
            raise Unavailable(f"timeout waiting for exec session ready: {exec_id}")
        if record.started and self._ended(record):
            raise NotFound("no such exec")
        self.runtime.resize(self._dir(record), height, width)

    def _ended(self, record: ExecRecord) -> bool:
        """Whether the exec's process is gone (asked of the runtime: a resize may come between
        its task's creation and the record saying it runs)."""
        try:
            return self.runtime.state(self._dir(record)).status == "stopped"
        except NotFound:
            return True


def _error_socket(message: str, tty: bool) -> socket.socket:
    """A socket that yields `message` as the stream's stdout (framed unless tty), then EOF."""
    left, right = socket.socketpair()
    data = message.encode()
    right.sendall(data if tty else encode_frame(STDOUT, data))  # dockerd writes it on stdout
    right.close()
    return left

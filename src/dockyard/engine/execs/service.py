"""`docker exec`: extra processes inside a running container, each with its own shim.

Exec instances live in memory, as in dockerd: they are gone after a daemon restart, while
their processes (owned by their shims) keep running. The container service is asked for the
container (by reference) and its rootfs; the exec's own task goes straight to the runtime.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

from dockyard import detachkeys
from dockyard.engine.containers import specgen
from dockyard.engine.containers.attach import SocketStream, StartOnRead
from dockyard.engine.containers.service import ContainerService
from dockyard.engine.events import EventBus
from dockyard.errors import Conflict, DockyardError, InvalidArgument, NoSuchExec, NotFound, RuntimeFailure
from dockyard.paths import DataRoot
from dockyard.runtime.runtime import IOConfig, Runtime


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


class ExecService:
    def __init__(self, containers: ContainerService, runtime: Runtime, root: DataRoot, events: EventBus) -> None:
        self.containers, self.runtime, self.root, self.events = containers, runtime, root, events
        self._execs: dict[str, ExecRecord] = {}
        self._lock = threading.Lock()

    def exec_create(self, ref: str, config: dict) -> dict:
        container = self.containers.get(ref)
        if container.state.status != "running":
            if container.state.status == "paused":
                raise Conflict(f"Container {container.id} is paused, unpause the container before exec")
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
        self.events.publish(
            "container",
            f"exec_create: {' '.join(config['Cmd'])}",
            container.id,
            {"image": container.image, "name": container.name, "execID": record.id},
        )
        return {"Id": record.id}

    def _get(self, exec_id: str) -> ExecRecord:
        record = self._execs.get(exec_id)
        if record is None:
            raise NoSuchExec(exec_id)
        return record

    def _dir(self, record: ExecRecord) -> Path:
        return self.root.exec_dir(record.container_id, record.id)

    def exec_start(self, exec_id: str, detach: bool, tty: bool):
        record = self._get(exec_id)
        with self._lock:  # check-and-set: two concurrent starts must not spawn two shims
            if record.started:
                state = "has already run" if not record.running else "is already running"
                raise Conflict(f"Error: Exec command {exec_id} {state}")
            record.started = True
        try:
            return self._start(record, detach)
        except DockyardError as exc:
            if record.exit_code is None:  # dockerd: an exec that could not start exited 126
                record.exit_code, record.error = 126, str(exc)
            raise

    def _start(self, record: ExecRecord, detach: bool):
        container = self.containers.get(record.container_id)
        config = record.config
        rootfs = self.containers.rootfs(container)
        process = specgen.process_for(
            rootfs,
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
        directory = self._dir(record)
        directory.mkdir(parents=True, exist_ok=True)
        io = IOConfig(tty=bool(config.get("Tty")), open_stdin=bool(config.get("AttachStdin")), stdin_once=True)
        record.pid = self.runtime.create_exec(directory, self.root.container(container.id), process, io)
        if detach:
            self._run(record, directory)
            return None
        sock = self.runtime.attach(
            directory,
            bool(config.get("AttachStdin")),
            config.get("AttachStdout", True),
            config.get("AttachStderr", True),
        )
        # as dockerd: the process starts once the client has the response head, so none of
        # its first output can travel in the same read as the head (where clients lose it)
        return StartOnRead(SocketStream(sock, bool(config.get("Tty"))), lambda: self._run(record, directory))

    def _run(self, record: ExecRecord, directory) -> None:
        try:
            self.runtime.start(directory)
        except RuntimeFailure as exc:
            # dockerd's exec: any failure to start is exit code 126 (not run's 127 for a missing command)
            record.exit_code, record.error, record.pid = 126, str(exc), 0
            raise RuntimeFailure(f"OCI runtime exec failed: exec failed: {exc}: unknown") from None
        record.running = True

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
        record = self._get(exec_id)
        self.runtime.resize(self._dir(record), height, width)

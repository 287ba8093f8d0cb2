"""The container service: docker's container verbs over images, snapshots and the runtime.

Lifecycle (Docker's states; a transition not listed is a Conflict or NotModified):

    created --start--> running --exit/stop/kill--> exited --start--> running
    running --restart policy--> restarting --> running
    any ------rm (-f when running)--> (gone)

Each public method resolves the reference, takes the container's lock, checks the state,
acts, persists the record in one transaction and publishes the event.
"""

from __future__ import annotations

import secrets
import shutil
import signal as signals
import threading
import time
from collections.abc import Callable
from pathlib import Path

from dockyard.engine.containers import specgen
from dockyard.engine.containers.attach import PendingAttaches
from dockyard.engine.containers.config import merge_config, random_name, validate_name
from dockyard.engine.containers.inspection import ContainerInspection, tree_size
from dockyard.engine.containers.model import ZERO_TIME, Container
from dockyard.engine.containers.networking import ContainerNetworking, LoopbackOnly
from dockyard.engine.containers.rules import (
    check_config_types,
    check_host_config,
    exit_code_for,
    labels_match,
    parse_signal,
    size_option,
)
from dockyard.engine.containers.store import ContainerStore
from dockyard.engine.events import EventBus
from dockyard.errors import (
    Conflict,
    DockyardError,
    InvalidArgument,
    NoSuchContainer,
    NotFound,
    NotModified,
    RuntimeFailure,
)
from dockyard.images.service import ImageService, ImageUser
from dockyard.paths import DataRoot
from dockyard.runtime.runtime import DEFAULT_LOG_MAX_FILES, DEFAULT_LOG_MAX_SIZE, IOConfig, Runtime, TaskState
from dockyard.snapshots.snapshotter import Snapshotter
from dockyard.timestamps import now_rfc3339

DEFAULT_STOP_TIMEOUT = 10


class ContainerService(ContainerInspection):
    """Docker's container verbs that change state; the read-only ones come from ContainerInspection."""

    def __init__(
        self,
        root: DataRoot,
        store: ContainerStore,
        images: ImageService,
        snapshots: Snapshotter,
        runtime: Runtime,
        events: EventBus,
        networking: ContainerNetworking | None = None,
    ) -> None:
        self.root, self.store, self.images, self.snapshots = root, store, images, snapshots
        self.runtime, self.events = runtime, events
        self.networking = networking or LoopbackOnly()
        self.pending = PendingAttaches()
        self._containers: dict[str, Container] = {c.id: c for c in store.load_all()}
        self._changed = threading.Condition()
        self._exits: dict[str, int] = {}  # container id -> exits seen, for next-exit waits
        self._final: dict[str, int] = {}  # exit codes of removed containers, for removed waits

    # -- lookup ------------------------------------------------------------------------

    def get(self, ref: str) -> Container:
        """By full ID, name (with or without /) or unique ID prefix. Raises NoSuchContainer."""
        if ref in self._containers:
            return self._containers[ref]
        name = ref.lstrip("/")
        for container in list(self._containers.values()):
            if container.name == name:
                return container
        matches = [c for c in list(self._containers.values()) if ref and c.id.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise InvalidArgument(f"multiple IDs found with provided prefix: {ref}")
        raise NoSuchContainer(ref)

    def all(self) -> list[Container]:
        return list(self._containers.values())

    def state_dir(self, container: Container) -> Path:
        return self.root.container(container.id)

    def image_user(self, image_id: str) -> ImageUser | None:
        """A container using the image, a running one first, if any (for rmi and prune)."""
        users = sorted((c for c in self.all() if c.image_id == image_id), key=lambda c: not c.state.running)
        return ImageUser(users[0].id, users[0].state.running) if users else None

    # -- create ------------------------------------------------------------------------

    def create(
        self,
        name: str | None,
        config: dict,
        host_config: dict,
        networking_config: dict | None,
        api_version: str = "1.44",
    ) -> dict:
        if not isinstance(config, dict) or not config.get("Image"):
            raise InvalidArgument("config cannot be empty in order to create a container")
        check_config_types(config)
        with self.images.locked():  # rmi and layer clean-up wait until the container is known
            image = self.images.resolve(config["Image"])
            merged = merge_config(config, self.images.config(image).get("config") or {})
            container_id = secrets.token_hex(32)
            if not merged.get("Hostname"):
                merged["Hostname"] = container_id[:12]
            check_host_config(host_config)
            log_config = host_config.get("LogConfig") or {}
            if not log_config.get("Type"):
                host_config = {
                    **host_config,
                    "LogConfig": {"Type": "json-file", "Config": log_config.get("Config") or {}},
                }
            container = Container(
                id=container_id,
                name=validate_name(name) if name else self._unused_name(),
                image=config["Image"],
                image_id=image.id,
                created=now_rfc3339(),
                config=merged,
                host_config={
                    "NetworkMode": "bridge",
                    "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
                    "LogConfig": {"Type": "json-file", "Config": {}},
                    **host_config,
                },
                networking_config=networking_config or {},
            )
            directory = self.state_dir(container)
            directory.mkdir(parents=True)
            try:
                self.snapshots.prepare(container.id, image.top_layer)
                self.networking.prepare(container, directory)
                self.store.insert(container)
            except BaseException:
                self.snapshots.remove(container.id)
                shutil.rmtree(directory, ignore_errors=True)
                raise
            self._containers[container.id] = container
        self._publish(container, "create")
        return {"Id": container.id, "Warnings": []}

    def _unused_name(self) -> str:
        taken = {c.name for c in self.all()}
        name = random_name()
        while name in taken:
            name = f"{random_name()}{secrets.randbelow(10)}"
        return name

    # -- start and the process's life ---------------------------------------------------

    def start(self, ref: str) -> None:
        container = self.get(ref)
        with container.lock:
            if container.state.status == "paused":
                raise Conflict("cannot start a paused container, try unpause instead")
            if container.state.running:
                raise NotModified("container already started")
            container.state.manually_stopped = False
            self._start(container)

    def _start(self, container: Container) -> None:
        """Mount, create the task, connect attachers, start; record the outcome. Holds the lock."""
        directory = self.state_dir(container)
        rootfs = self.snapshots.mount(container.id)
        self._forget_task(directory)
        try:
            spec = specgen.container_spec(container, rootfs, directory, self._namespaces(container))
            pid = self.runtime.create(directory, spec, self._io(container))
            container.network_settings = self.networking.connect(container, pid)
            self.pending.connect_all(container.id, lambda i, o, e: self.runtime.attach(directory, i, o, e))
            self.runtime.start(directory)
        except DockyardError as exc:
            self._record_failure(container, str(exc))
            if container.host_config.get("AutoRemove"):
                self._remove(container)
            if isinstance(exc, (RuntimeFailure, InvalidArgument)):
                raise RuntimeFailure(f"failed to create task for container: {exc}: unknown") from None
            raise  # a network error (a port already taken) keeps its own status and words
        state = self.runtime.state(directory)
        container.state.status, container.state.pid = "running", pid
        container.state.started_at, container.state.error = state.started_at or now_rfc3339(), ""
        container.state.exit_code, container.state.oom_killed = 0, False
        container.generation += 1
        self.store.save(container)
        self._publish(container, "start")
        threading.Thread(
            target=self._monitor,
            args=(container, container.generation),
            name=f"monitor-{container.id[:12]}",
            daemon=True,
        ).start()

    def _record_failure(self, container: Container, message: str) -> None:
        self.pending.cancel(container.id)
        self.networking.release(container)
        self._forget_task(self.state_dir(container))
        never_ran = container.state.started_at == ZERO_TIME
        container.state.status = "created" if never_ran else "exited"
        container.state.exit_code, container.state.error = exit_code_for(message), message
        self.store.save(container)
        self._notify(container.id, exited=False)

    def _forget_task(self, directory: Path) -> None:
        """Delete the previous task, once its process is gone (it may still be exiting)."""
        try:
            self.runtime.delete(directory)
        except NotFound:
            pass
        except Conflict:
            self.runtime.wait(directory, timeout=DEFAULT_STOP_TIMEOUT)
            self.runtime.delete(directory)

    def _namespaces(self, container: Container) -> dict[str, str]:
        mode = container.host_config.get("NetworkMode") or "bridge"
        namespaces: dict[str, str] = {}
        if mode == "host":
            namespaces["network"] = "host"
        elif mode.startswith("container:"):
            other = self.get(mode.partition(":")[2])
            if not other.state.running:
                raise Conflict(f"cannot join network of a non running container: {other.id}")
            namespaces["network"] = f"/proc/{other.state.pid}/ns/net"
        if container.host_config.get("PidMode") == "host":
            namespaces["pid"] = "host"
        if container.host_config.get("IpcMode") == "host":
            namespaces["ipc"] = "host"
        if container.host_config.get("UTSMode") == "host":
            namespaces["uts"] = "host"
        return namespaces

    def _io(self, container: Container) -> IOConfig:
        options = (container.host_config.get("LogConfig") or {}).get("Config") or {}
        return IOConfig(
            tty=bool(container.config.get("Tty")),
            open_stdin=bool(container.config.get("OpenStdin")),
            stdin_once=bool(container.config.get("StdinOnce")),
            log_path=self.root.container_log(container.id),
            log_max_size=size_option(options["max-size"]) if "max-size" in options else DEFAULT_LOG_MAX_SIZE,
            log_max_files=int(options.get("max-file", DEFAULT_LOG_MAX_FILES)),
        )

    def _monitor(self, container: Container, generation: int) -> None:
        """Wait for one run's process to exit, then hand its exit over."""
        self._exited(container, generation, self.runtime.wait(self.state_dir(container)))

    def _exited(self, container: Container, generation: int, state: TaskState) -> None:
        """Record one run's exit (once), then restart or auto-remove as the container asks."""
        with container.lock:
            if generation != container.generation or container.state.status not in ("running", "paused"):
                return
            self.networking.release(container)  # first, so the saved record shows no address
            self._record_exit(container, state)
            restart = self._should_restart(container)
            if restart:
                container.state.status = "restarting"
                container.state.restart_count += 1
                self.store.save(container)
            elif not container.host_config.get("AutoRemove"):
                self.snapshots.unmount(container.id)  # as dockerd: a stopped container keeps no mount
        if restart:
            threading.Thread(target=self._restart_later, args=(container, generation), daemon=True).start()
        elif container.host_config.get("AutoRemove"):
            self._remove(container)

    def _restart_later(self, container: Container, generation: int) -> None:
        time.sleep(min(0.1 * 2 ** min(container.state.restart_count, 8), 10))
        with container.lock:
            if container.state.status == "restarting" and container.generation == generation:
                try:
                    self._start(container)
                except RuntimeFailure:
                    pass

    def _record_exit(self, container: Container, state: TaskState) -> None:
        container.state.status = "exited"
        container.state.pid = 0
        container.state.exit_code = state.exit_code if state.exit_code is not None else 255
        container.state.finished_at = state.finished_at or now_rfc3339()
        container.state.oom_killed = state.oom_killed
        self.store.save(container)
        self._publish(container, "die", exitCode=str(container.state.exit_code))
        self._notify(container.id, exited=True)

    def _should_restart(self, container: Container) -> bool:
        policy = container.host_config.get("RestartPolicy") or {}
        name, limit = policy.get("Name") or "no", policy.get("MaximumRetryCount") or 0
        if container.state.manually_stopped or name == "no":
            return False
        if name == "on-failure":
            return container.state.exit_code != 0 and (not limit or container.state.restart_count < limit)
        return name in ("always", "unless-stopped")

    def recover(self) -> None:
        """At daemon start: find running tasks again, handle the exits that happened meanwhile,
        and finish removals a crash interrupted (directories without a record)."""
        for orphan in sorted(p.name for p in self.root.containers.iterdir() if p.name not in self._containers):
            self._discard_files(orphan)
        for container in self.all():
            if not container.state.running:
                continue
            try:
                state = self.runtime.state(self.state_dir(container))
            except NotFound:
                state = TaskState("stopped", None, 255, None, now_rfc3339())
            if container.state.status == "restarting":
                container.state.status = "running"  # its task is this run's, alive or not
            if state.status == "running":  # a paused container stays paused
                threading.Thread(target=self._monitor, args=(container, container.generation), daemon=True).start()
            else:  # exited while no daemon watched: record it, then restart policy or auto-remove
                self._exited(container, container.generation, state)

    # -- stop, kill, restart, wait -----------------------------------------------------

    def stop(self, ref: str, timeout: int | None, signal: str | None) -> None:
        container = self.get(ref)
        with container.lock:
            if not container.state.running:
                raise NotModified("container already stopped")
            container.state.manually_stopped = True
            self.store.save(container)
            self._stop(container, timeout, signal)
        self._publish(container, "stop")

    def _stop(self, container: Container, timeout: int | None, signal: str | None) -> None:
        """Stop signal, then SIGKILL after the timeout; the exit is recorded before returning."""
        directory = self.state_dir(container)
        if container.state.status == "restarting":
            container.generation += 1
            container.state.status = "exited"
            self.store.save(container)
            return
        stop_signal = parse_signal(signal or container.config.get("StopSignal"))
        self._thaw(container)
        if timeout is None:
            timeout = container.config.get("StopTimeout")
        timeout = DEFAULT_STOP_TIMEOUT if timeout is None else timeout
        self._signal(container, stop_signal)
        state = self.runtime.wait(directory, timeout if timeout >= 0 else None)
        if state.status != "stopped":
            self._kill_and_reap(container)
        else:
            self._exited(container, container.generation, state)

    def _kill_and_reap(self, container: Container) -> None:
        directory = self.state_dir(container)
        self._thaw(container)
        self._signal(container, signals.SIGKILL)
        self._exited(container, container.generation, self.runtime.wait(directory))

    def _signal(self, container: Container, number: int) -> None:
        """Send a signal as part of stop/rm; a process that has just exited is not an error."""
        try:
            self.runtime.kill(self.state_dir(container), number)
        except Conflict:
            return
        self._publish(container, "kill", signal=str(number))

    def kill(self, ref: str, signal: str | None) -> None:
        container = self.get(ref)
        with container.lock:
            if not container.state.running or container.state.status == "restarting":
                raise Conflict(f"Cannot kill container: {ref}: Container {container.id} is not running")
            number = parse_signal(signal, signals.SIGKILL)
            if number == signals.SIGKILL:
                container.state.manually_stopped = True
            self._thaw(container)
            self.runtime.kill(self.state_dir(container), number)
        self._publish(container, "kill", signal=str(number))

    def restart(self, ref: str, timeout: int | None, signal: str | None) -> None:
        container = self.get(ref)
        with container.lock:
            if container.state.running:
                container.state.manually_stopped = True
                self._stop(container, timeout, signal)
            container.state.manually_stopped = False
            self._start(container)
        self._publish(container, "restart")

    def wait(self, ref: str, condition: str, cancelled: Callable[[], bool] | None = None) -> dict:
        """Block until the condition holds; give up early once `cancelled()` (the client left)."""
        container = self.get(ref)
        if condition not in ("not-running", "next-exit", "removed", ""):
            raise InvalidArgument(f"invalid condition: {condition}")
        exits = self._exits.get(container.id, 0)
        gone = lambda: container.id not in self._containers  # noqa: E731
        if condition == "removed":
            self._wait_until(gone, cancelled)
            code = self._final.get(container.id, container.state.exit_code)
        elif condition == "next-exit":
            self._wait_until(lambda: self._exits.get(container.id, 0) > exits or gone(), cancelled)
            code = container.state.exit_code
        else:
            self._wait_until(lambda: not container.state.running or gone(), cancelled)
            code = container.state.exit_code
        return {"StatusCode": code, "Error": None}

    def _wait_until(self, predicate: Callable[[], bool], cancelled: Callable[[], bool] | None = None) -> None:
        """Wait for `predicate`, checking `cancelled` every second so an abandoned wait ends."""
        with self._changed:
            while not self._changed.wait_for(predicate, timeout=1.0):
                if cancelled is not None and cancelled():
                    return

    def _notify(self, container_id: str, exited: bool) -> None:
        with self._changed:
            if exited:
                self._exits[container_id] = self._exits.get(container_id, 0) + 1
            self._changed.notify_all()

    # -- remove, rename, prune ----------------------------------------------------------

    def remove(self, ref: str, force: bool, volumes: bool) -> None:
        """`docker rm`; `volumes` (-v) has nothing to remove until anonymous volumes exist."""
        container = self.get(ref)
        with container.lock:
            if container.state.running and not force:
                state = "paused" if container.state.status == "paused" else "running"
                raise Conflict(
                    f'cannot remove container "/{container.name}": container is {state}: '
                    "stop the container before removing or force remove"
                )
            if container.state.running:
                container.state.manually_stopped = True
                self._kill_and_reap(container)
            self._remove(container)  # the lock is re-entrant: no start can slip in between

    def _remove(self, container: Container) -> None:
        with container.lock:
            if container.id not in self._containers:
                return
            if container.state.running:  # started again since the caller looked (prune, auto-remove)
                return
            container.state.status = "removing"
            self.pending.cancel(container.id)
            self.networking.release(container)
            self.store.delete(container.id)
            self._final[container.id] = container.state.exit_code
            del self._containers[container.id]
        self._publish(container, "destroy")
        self._notify(container.id, exited=False)  # `wait --condition removed` needs no more
        self._discard_files(container.id)

    def _discard_files(self, container_id: str) -> None:
        """The task, snapshot and directory of a container whose record is gone (recover() finishes
        the job if the daemon dies half way)."""
        directory = self.root.container(container_id)
        self._forget_task(directory)
        self.snapshots.remove(container_id)
        shutil.rmtree(directory, ignore_errors=True)

    def rename(self, ref: str, new_name: str) -> None:
        container = self.get(ref)
        name = validate_name(new_name)
        with container.lock:
            if name == container.name:
                raise InvalidArgument("Renaming a container with the same name as its current name")
            old, container.name = container.name, name
            try:
                self.store.save(container)
            except Conflict:
                container.name = old
                raise
        self._publish(container, "rename", oldName="/" + old)

    def prune(self, filters: dict[str, list[str]]) -> dict:
        deleted, reclaimed = [], 0
        for container in self.all():
            if container.state.running or not labels_match(
                container.config.get("Labels") or {}, filters.get("label", [])
            ):
                continue
            reclaimed += tree_size(self.root.container(container.id) / "upper")
            self._remove(container)
            deleted.append(container.id)
        return {"ContainersDeleted": deleted, "SpaceReclaimed": reclaimed}

    def pause(self, ref: str) -> None:
        """Freeze every process of the container (cgroup freezer)."""
        container = self.get(ref)
        with container.lock:
            if container.state.status == "paused":
                raise Conflict(f"Container {container.id} is already paused")
            if container.state.status == "restarting":
                raise Conflict(f"Container {container.id} is restarting, wait until the container is running")
            if container.state.status != "running":
                raise Conflict(f"Container {container.id} is not running")
            self.runtime.pause(self.state_dir(container))
            container.state.status = "paused"
            self.store.save(container)
        self._publish(container, "pause")

    def unpause(self, ref: str) -> None:
        container = self.get(ref)
        with container.lock:
            if container.state.status != "paused":
                raise Conflict(f"Container {container.id} is not paused")
            self._thaw(container)
        self._publish(container, "unpause")

    def _thaw(self, container: Container) -> None:
        """Resume a paused container (before a signal, which a frozen process cannot take)."""
        if container.state.status == "paused":
            self.runtime.resume(self.state_dir(container))
            container.state.status = "running"
            self.store.save(container)

    def _publish(self, container: Container, action: str, **extra: str) -> None:
        attributes = {
            **(container.config.get("Labels") or {}),
            "image": container.image,
            "name": container.name,
            **extra,
        }
        self.events.publish("container", action, container.id, attributes)

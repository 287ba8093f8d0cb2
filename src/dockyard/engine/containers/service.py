"""The container service: docker's container verbs over images, snapshots and the runtime.

Lifecycle (Docker's states; a transition not listed is a Conflict or NotModified):

    created --start--> running --exit/stop/kill--> exited --start--> running
    running --restart policy--> restarting --> running
    any ------rm (-f when running)--> (gone)

Each public method resolves the reference, takes the container's lock, checks the state,
acts, persists the record in one transaction and publishes the event. What then happens to
the process (start, exit, restart policy, stop, removal, recovery) is `Lifecycle`'s; the
read-only verbs (inspect, ps, logs, attach, top, diff, stats, export) are handed to a
ContainerInspection over the same table; `docker wait` to ExitWaits.
"""

from __future__ import annotations

import secrets
import shutil
import signal as signals
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from dockyard.engine import prune
from dockyard.engine.containers import health, hostfields, links, procinit, resources, updates
from dockyard.engine.containers.attach import PendingAttaches
from dockyard.engine.containers.config import host_config_defaults, merge_config, random_name, validate_name
from dockyard.engine.containers.inspection import ContainerInspection, tree_size
from dockyard.engine.containers.lifecycle import Lifecycle
from dockyard.engine.containers.model import Container
from dockyard.engine.containers.mounting import ContainerMounts
from dockyard.engine.containers.networking import ContainerNetworking, LoopbackOnly
from dockyard.engine.containers.rules import (
    check_config_types,
    check_host_config,
    check_restart_policy,
    parse_signal,
)
from dockyard.engine.containers.store import ContainerStore
from dockyard.engine.containers.table import ContainerTable
from dockyard.engine.containers.views import parse_time
from dockyard.engine.containers.waits import ExitWaits
from dockyard.engine.events import EventBus
from dockyard.errors import Conflict, InvalidArgument, NoSuchContainer, NotFound, NotModified
from dockyard.images.service import ImageService, ImageUser
from dockyard.paths import DataRoot
from dockyard.runtime.cgroups import sysinfo
from dockyard.runtime.cgroups.sysinfo import HostLimits
from dockyard.runtime.runtime import Runtime
from dockyard.runtime.runtimes import OciRuntimes
from dockyard.snapshots.snapshotter import Snapshotter
from dockyard.timestamps import now_rfc3339


class ContainerService:
    """Docker's container verbs; the read-only ones are handed to `self.inspection`."""

    def __init__(
        self,
        root: DataRoot,
        store: ContainerStore,
        table: ContainerTable,
        images: ImageService,
        snapshots: Snapshotter,
        runtime: Runtime,
        events: EventBus,
        mounts: ContainerMounts,
        networking: ContainerNetworking | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        host_limits: HostLimits | None = None,
        init_path: str = procinit.DEFAULT_INIT_PATH,
        runtimes: OciRuntimes | None = None,
    ) -> None:
        """`clock` and `sleep` time the restart back-off (tests pass their own); `host_limits`
        is what this host's cgroups can limit (probed when None); `init_path` the `--init` reaper;
        `runtimes` the OCI runtimes containers may name (dockyard's own only when None)."""
        self.host_limits = host_limits if host_limits is not None else sysinfo.probe()
        self.init_path = init_path
        self.runtimes = runtimes or OciRuntimes()
        self.root, self.store, self.table, self.images, self.snapshots = root, store, table, images, snapshots
        self.runtime, self.events = runtime, events
        self.networking = networking or LoopbackOnly()
        self.mounts = mounts
        self.pending = PendingAttaches()
        self._next_id: str | None = None  # reserved for the next create (_take_id)
        self.waits = ExitWaits(table)
        self.inspection = ContainerInspection(table, root, images, snapshots, runtime, self.pending)
        self.lifecycle = Lifecycle(
            root,
            store,
            table,
            snapshots,
            runtime,
            events,
            self.networking,
            mounts,
            self.pending,
            self.waits,
            clock,
            sleep,
            init_path,
            self.runtimes,
        )

    def _check_runtime(self, host: dict, config: dict) -> None:
        """Name the runtime the container runs under (the default when unset). Raises
        InvalidArgument for an unknown one, and for a terminal under an external one."""
        host["Runtime"] = host.get("Runtime") or self.runtimes.default
        if self.runtimes.command(host["Runtime"]) and config.get("Tty"):
            raise InvalidArgument(f"a terminal (-t) is not supported by dockyard with runtime {host['Runtime']}")

    # -- lookup ------------------------------------------------------------------------

    def get(self, ref: str) -> Container:
        """By full ID, name (with or without /) or unique ID prefix. Raises NoSuchContainer."""
        return self.table.get(ref)

    def all(self) -> list[Container]:
        return self.table.all()

    def _task(self, container: Container) -> Path:
        return self.root.container(container.id)

    def rootfs(self, container: Container) -> Path:
        """Where the container's root filesystem is mounted while it runs (for exec)."""
        return self.snapshots.paths(container.id).rootfs

    def layer_diff(self, ref: str, out: BinaryIO) -> None:
        """Write the container's changes as an OCI layer tar (for commit)."""
        self.snapshots.diff(self.get(ref).id, out)

    def reconfigure(self, ref: str, change: Callable[[Container], None]) -> Container:
        """Apply `change` to the container under its lock, then persist it (network connect)."""
        container = self.get(ref)
        with container.lock:
            change(container)
            self.store.save(container)
        return container

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
        readonly_recursive: bool = True,
    ) -> dict:
        if not isinstance(config, dict) or not config.get("Image"):
            raise InvalidArgument("Config cannot be empty in order to create a container")
        check_config_types(config)
        health.validate(config.get("Healthcheck"))
        with self.images.locked():  # rmi and layer clean-up wait until the container is known
            image = self.images.resolve(config["Image"])
            merged = merge_config(config, self.images.config(image).get("config") or {})
            check_host_config(host_config)
            host = resources.adapt(host_config_defaults(host_config))
            warnings = resources.verify(host, self.host_limits)
            hostfields.check(host)
            procinit.check(host, self.init_path)
            self._check_runtime(host, merged)
            links.check(host_config, self.get)
            container_name = validate_name(name) if name else self._unused_name()
            container_id, reserved = self._take_id(host)
            merged["Hostname"] = merged.get("Hostname") or container_id[:12]
            container = Container(
                id=container_id,
                name=container_name,
                image=config["Image"],
                image_id=image.id,
                created=now_rfc3339(),
                config=merged,
                host_config=host,
                networking_config=networking_config or {},
                snapshot_parent=image.top_layer or "",
            )
            directory = self._task(container)
            try:
                directory.mkdir(mode=0o700, parents=True)
                self.mounts.prepare(container, readonly_recursive)
                # unsynced: the record, committed durably below, holds the parent; recover() repairs (0121)
                self.snapshots.prepare(container.id, image.top_layer, durable=False)
                self.networking.prepare(container, directory)
                self.store.insert(container)
            except BaseException:
                self.mounts.release(container, remove_anonymous=True)
                self.snapshots.remove(container.id)
                shutil.rmtree(directory, ignore_errors=True)
                if reserved and self._next_id is None:  # a name taken, say: the next create may have it
                    self._next_id = container_id
                raise
            self.table.add(container)
            self._reserve_id()
        self.lifecycle.publish(container, "create")
        return {"Id": container.id, "Warnings": warnings}

    def _take_id(self, host: dict) -> tuple[str, bool]:
        """A new container's ID and whether it is the reserved one, whose init the runtime was
        asked to make ahead (used when the container can start on it); else a fresh one.
        Under the image lock, as every create."""
        if self._next_id is not None and self.lifecycle.can_prepare(host):
            container_id, self._next_id = self._next_id, None
            return container_id, True
        return secrets.token_hex(32), False

    def _reserve_id(self) -> None:
        """Reserve the next container's ID and ask for its init to be made ahead (the runtime
        makes it once idle). Under the image lock: the request goes before any create can
        take the ID, so its start comes after it."""
        if self._next_id is None:
            reserved = secrets.token_hex(32)
            self.lifecycle.prepare(reserved)
            self._next_id = reserved

    def _unused_name(self) -> str:
        taken = {c.name for c in self.all()}
        name = random_name()
        while name in taken:
            name = f"{random_name()}{secrets.randbelow(10)}"
        return name

    # -- start -------------------------------------------------------------------------------

    def start(self, ref: str) -> None:
        container = self.get(ref)
        with container.lock:
            if container.state.status == "paused":
                raise Conflict("cannot start a paused container, try unpause instead")
            if container.state.running:
                raise NotModified("container already started")
            self.lifecycle.reset_restarts(container)
            self.lifecycle.start(container)

    def recover(self) -> None:
        """At daemon start: see Lifecycle.recover()."""
        self.lifecycle.recover()

    # -- stop, kill, restart, wait -----------------------------------------------------

    def stop(self, ref: str, timeout: int | None, signal: str | None) -> None:
        container = self.get(ref)
        with container.lock:
            if not container.state.running:
                raise NotModified("container already stopped")
            container.state.manually_stopped = True
            self.store.save(container)
            self.lifecycle.stop(container, timeout, signal)
        self.lifecycle.publish(container, "stop")

    def kill(self, ref: str, signal: str | None) -> None:
        container = self.get(ref)
        with container.lock:
            if not container.state.running or container.state.status == "restarting":
                raise Conflict(f"Cannot kill container: {ref}: Container {container.id} is not running")
            number = parse_signal(signal, signals.SIGKILL)
            if number > signals.SIGRTMAX:
                raise InvalidArgument(
                    f"Cannot kill container: {ref}: The linux daemon does not support signal {number}"
                )
            if number == signals.SIGKILL:
                container.state.manually_stopped = True
            self.lifecycle.thaw(container)
            self.runtime.kill(self._task(container), number)
            self.lifecycle.publish(container, "kill", signal=str(number))
            if number == signals.SIGKILL:  # as dockerd: SIGKILL returns once the exit is recorded
                self.lifecycle.exited(container, container.generation, self.runtime.wait(self._task(container)))

    def restart(self, ref: str, timeout: int | None, signal: str | None) -> None:
        container = self.get(ref)
        with container.lock:
            if container.state.running:
                container.state.manually_stopped = True
                self.lifecycle.stop(container, timeout, signal)
            self.lifecycle.reset_restarts(container)
            self.lifecycle.start(container)
        self.lifecycle.publish(container, "restart")

    def wait(self, ref: str, condition: str, cancelled: Callable[[], bool] | None = None) -> dict:
        """Block until the condition holds; give up early once `cancelled()` (the client left)."""
        return self.waits.wait(self.get(ref), condition, cancelled)

    def begin_wait(self, ref: str, condition: str) -> Callable[[Callable[[], bool] | None], dict]:
        """A wait begun now (a missing container raises at once); the returned call blocks."""
        return self.waits.begin(self.get(ref), condition)

    # -- remove, rename, prune ----------------------------------------------------------

    def remove(self, ref: str, force: bool, volumes: bool) -> None:
        """`docker rm`; with `volumes` (-v) its anonymous volumes go too, unless another container uses them."""
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
                self.lifecycle.kill_and_reap(container)
            self.lifecycle.remove(
                container, remove_volumes=volumes
            )  # the lock is re-entrant: no start can slip in between

    def rename(self, ref: str, new_name: str) -> None:
        """`docker rename`; the new name's errors in moby's words ("Error when allocating new name: ...")."""
        container = self.get(ref)
        try:
            name = validate_name("/" + new_name.lstrip("/"))
        except InvalidArgument as exc:
            raise InvalidArgument(f"Error when allocating new name: {exc}") from None
        with container.lock:
            if name == container.name:
                raise InvalidArgument("Renaming a container with the same name as its current name")
            old, container.name = container.name, name
            try:
                self.store.save(container)
            except Conflict as exc:
                container.name = old
                raise Conflict(f"Error when allocating new name: {exc}") from None
        self.lifecycle.publish(container, "rename", oldName="/" + old)

    def remove_link(self, ref: str) -> None:
        """`DELETE /containers/<parent>/<alias>?link=1`: drop a legacy link of `parent`.

        Raises NoSuchContainer for a name that is no link, as dockerd (links are names there).
        """
        parent_name, _, alias = ref.strip("/").rpartition("/")
        if not parent_name:
            self.get(ref)
            raise Conflict("Conflict, cannot remove the default link name of the container")
        try:
            parent = self.get(parent_name)
        except NotFound:
            raise NoSuchContainer(ref) from None
        with parent.lock:
            kept = [spec for spec in parent.host_config.get("Links") or [] if links.parse(spec).alias != alias]
            if not links.legacy(parent) or len(kept) == len(parent.host_config.get("Links") or []):
                raise NoSuchContainer(ref)
            parent.host_config = {**parent.host_config, "Links": kept or None}
            self.store.save(parent)

    def prune(self, filters: dict[str, list[str]]) -> dict:
        """Remove stopped containers matching `until`, `label` and `label!` (engine/prune.py)."""
        deleted, reclaimed = [], 0
        now = time.time()
        prune.cutoff(filters, now)  # a malformed `until` is a 400 before anything is removed
        for container in self.all():
            labels = container.config.get("Labels") or {}
            if container.state.running or not prune.prune_match(labels, parse_time(container.created), filters, now):
                continue
            reclaimed += tree_size(self.snapshots.paths(container.id).upper)
            self.lifecycle.remove(container)
            deleted.append(container.id)
        return {"ContainersDeleted": deleted, "SpaceReclaimed": reclaimed}

    def update(self, ref: str, sent: dict) -> dict:
        """`docker update`: new limits (applied at once if it runs) and restart policy."""
        container = self.get(ref)
        check_restart_policy(sent.get("RestartPolicy") or {})
        with container.lock:
            if container.state.status == "removing":
                raise Conflict(f"Cannot update container {container.id}: Container is marked for removal")
            try:
                host = updates.merge(container.host_config, sent)
            except Conflict as exc:
                raise Conflict(f"Cannot update container {container.id}: {exc}") from None
            warnings = resources.verify(host, self.host_limits, update=True)
            if container.state.status in ("running", "paused"):
                self.runtime.update(self._task(container), resources.update_resources(host, sent))
            container.host_config = host
            self.store.save(container)
        self.lifecycle.publish(container, "update")
        return {"Warnings": warnings or None}  # as moby: null when there is none

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
            self.runtime.pause(self._task(container))
            container.state.status = "paused"
            self.store.save(container)
        self.lifecycle.publish(container, "pause")

    def unpause(self, ref: str) -> None:
        container = self.get(ref)
        with container.lock:
            if container.state.status != "paused":
                raise Conflict(f"Container {container.id} is not paused")
            self.lifecycle.thaw(container)
        self.lifecycle.publish(container, "unpause")

    # -- the read-only verbs, answered by ContainerInspection ------------------------------

    def inspect(self, ref: str, size: bool = False) -> dict:
        return self.inspection.inspect(ref, size)

    def list(self, all: bool, limit: int | None, size: bool, filters: dict[str, list[str]]) -> list[dict]:
        return self.inspection.list(all, limit, size, filters)

    def logs(
        self,
        ref: str,
        follow: bool,
        stdout: bool,
        stderr: bool,
        since: float | None,
        until: float | None,
        timestamps: bool,
        tail: str,
    ) -> tuple[bool, Iterator[tuple[int, bytes]]]:
        return self.inspection.logs(ref, follow, stdout, stderr, since, until, timestamps, tail)

    def attach(self, ref: str, stdin: bool, stdout: bool, stderr: bool, logs: bool, stream: bool):
        attached = self.inspection.attach(ref, stdin, stdout, stderr, logs, stream)
        self.lifecycle.publish(self.get(ref), "attach")
        return attached

    def resize(self, ref: str, height: int, width: int) -> None:
        self.inspection.resize(ref, height, width)
        self.lifecycle.publish(self.get(ref), "resize", height=str(height), width=str(width))

    def export(self, ref: str) -> Iterator[bytes]:
        chunks = self.inspection.export(ref)
        self.lifecycle.publish(self.get(ref), "export")
        return chunks

    def top(self, ref: str, ps_args: str | None) -> dict:
        processes = self.inspection.top(ref, ps_args)
        self.lifecycle.publish(self.get(ref), "top")
        return processes

    def changes(self, ref: str) -> list[dict]:
        return self.inspection.changes(ref)

    def stats(self, ref: str, stream: bool) -> Iterator[dict]:
        return self.inspection.stats(ref, stream)

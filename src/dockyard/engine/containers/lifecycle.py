"""A container's process from start to exit: what ContainerService's verbs set going.

    start(c)           mount, create the task, wire the network, connect attachers, start;
                       then a monitor thread waits for the exit
    exited(c, gen, s)  record one run's exit once; restart (restarts.py) or auto-remove
    stop(c, ...)       stop signal, SIGKILL after the timeout; the exit recorded on return
    remove(c, vols)    forget the record, release its mounts (anonymous volumes too, if asked),
                       then the task, snapshot and directory
    recover()          at daemon start: repair snapshots from their records, watch live tasks
                       again, record the exits missed

The `running` and exit saves of a container with neither a restart policy nor AutoRemove are
not synced (only this boot's processes make them true; decision 0121), nor is the delete
after an AutoRemove container's exit (its synced record says running, which recover()
removes); every other save and delete is.

Every method but recover() runs under the container's lock (re-entrant), taken by the
caller; `generation` counts runs, so a late monitor of an older run changes nothing.
"""

from __future__ import annotations

import logging
import shutil
import signal as signals
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from dockyard import faults, threads
from dockyard.engine.containers import health, hostfields, links, procinit, resources, restarts, specgen
from dockyard.engine.containers.attach import PendingAttaches
from dockyard.engine.containers.config import merge_env
from dockyard.engine.containers.model import Container
from dockyard.engine.containers.mounting import ContainerMounts
from dockyard.engine.containers.networking import ContainerNetworking
from dockyard.engine.containers.rules import exit_code_for, parse_signal
from dockyard.engine.containers.store import ContainerStore
from dockyard.engine.containers.table import ContainerTable
from dockyard.engine.containers.waits import ExitWaits
from dockyard.engine.events import EventBus
from dockyard.errors import Conflict, DockyardError, InvalidArgument, NotFound, RuntimeFailure, Unavailable
from dockyard.oci.digest import Digest
from dockyard.paths import DataRoot
from dockyard.runtime.runtime import Runtime, TaskState
from dockyard.runtime.runtimes import OciRuntimes
from dockyard.snapshots.snapshotter import Snapshotter
from dockyard.timestamps import ZERO_TIME, now_rfc3339

log = logging.getLogger(__name__)

DEFAULT_STOP_TIMEOUT = 10
MAX_STOP_TIMEOUT = 10**8  # seconds; a longer (or negative) stop timeout waits for the exit as long as it takes


class Lifecycle:
    def __init__(
        self,
        root: DataRoot,
        store: ContainerStore,
        table: ContainerTable,
        snapshots: Snapshotter,
        runtime: Runtime,
        events: EventBus,
        networking: ContainerNetworking,
        mounts: ContainerMounts,
        pending: PendingAttaches,
        waits: ExitWaits,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        init_path: str = procinit.DEFAULT_INIT_PATH,
        runtimes: OciRuntimes | None = None,
    ) -> None:
        """`clock` and `sleep` time the restart back-off (tests pass their own); `init_path`
        is the reaper `--init` runs as PID 1; `runtimes` resolves HostConfig.Runtime."""
        self.root, self.store, self.table, self.snapshots = root, store, table, snapshots
        self.init_path, self.runtimes = init_path, runtimes or OciRuntimes()
        self.runtime, self.events, self.networking, self.mounts = runtime, events, networking, mounts
        self.pending, self.waits = pending, waits
        self._clock, self._sleep = clock, sleep
        self.health = health.HealthMonitor(
            health.RuntimeProbe(root, runtime, lambda c: snapshots.paths(c.id).rootfs), self._health_changed, clock
        )
        self._backoff: dict[str, float] = {}  # container id -> the last restart delay
        self._run_began: dict[str, float] = {}  # container id -> clock() when its run started

    def _task(self, container: Container) -> Path:
        return self.root.container(container.id)

    def start(self, container: Container) -> None:
        """Mount, create the task, wire its network, connect attachers, start (or create and
        start in one step when none of those has anything to do); record the outcome. Holds
        the lock."""
        directory = self._task(container)
        rootfs = self.snapshots.mount(container.id)
        # a container that never ran has no task to forget (recover() settles what a crash left)
        if container.state.started_at != ZERO_TIME:
            self._forget_task(directory)
        try:
            self.mounts.activate(container, rootfs)
            if any(_blank(directory / name) for name in specgen.GENERATED_FILES):
                self.networking.write_files(container, directory)  # written unsynced at create
            spec = self._spec(container, rootfs, directory)
            io = specgen.io_config(container, self.root.container_log(container.id))
            oci_runtime = self.runtimes.command(container.host_config.get("Runtime") or "")
            console = container.host_config.get("ConsoleSize") or [0, 0]
            sized = io.tty and all(console)
            if sized or self.pending.waiting(container.id) or self.networking.wires(container):
                pid = self.runtime.create(directory, spec, io, oci_runtime)
                if sized:
                    self.runtime.resize(directory, console[0], console[1])
                container.network_settings = self.networking.connect(container, pid)
                self.pending.connect_all(container.id, lambda i, o, e: self.runtime.attach(directory, i, o, e))
                started_at = self.runtime.start(directory)
            else:  # nothing to do between the two: one exchange with the runtime
                pid, started_at = self.runtime.run(directory, spec, io, oci_runtime)
                try:
                    container.network_settings = self.networking.connect(container, pid)
                except BaseException:
                    self._stop_task(directory)  # started already: it must not run on unwatched
                    raise
            faults.point("start.after-task")
        except DockyardError as exc:
            self._record_failure(container, str(exc))
            if container.host_config.get("AutoRemove"):
                self.remove(container, remove_volumes=True)
            if isinstance(exc, (RuntimeFailure, InvalidArgument)):
                raise RuntimeFailure(f"failed to create task for container: {exc}: unknown") from None
            raise  # a network error (a port already taken) keeps its own status and words
        container.state.status, container.state.pid = "running", pid
        container.state.started_at, container.state.error = started_at, ""
        container.state.exit_code, container.state.oom_killed = 0, False
        container.generation += 1
        self._run_began[container.id] = self._clock()
        # the exit watched before the record is saved, so the wait usually reaches the shim before
        # a quick exit and is answered ahead of the task's release; its answer awaited on a thread
        # started after the save (waking it sooner, it would take the GIL from the save, each
        # of whose statements gives it up); the exit is handled once the caller lets go of the lock
        exit_of = self.runtime.watch(directory)
        try:
            self.health.start(container)
            self.store.save(container, durable=_state_outlives_the_boot(container))
        finally:
            self._watch(container, exit_of)
        self.publish(container, "start")

    def _spec(self, container: Container, rootfs: Path, directory: Path) -> dict:
        """The OCI spec: specgen's (with the legacy links' environment), with the resource limits, groups, annotations and, with
        `--init`, the reaper."""
        linked = _with_link_env(container, self.table.get)
        spec = specgen.container_spec(linked, rootfs, directory, specgen.namespaces(container, self.table.get))
        resources.apply_to_spec(spec, container.host_config, container.id)
        hostfields.apply_to_spec(spec, container.host_config)
        if container.host_config.get("Init"):
            procinit.wrap(spec, self.init_path)
        return spec

    def _record_failure(self, container: Container, message: str) -> None:
        self.pending.cancel(container.id)
        self.networking.release(container)
        self.mounts.deactivate(container)
        self._forget_task(self._task(container))
        never_ran = container.state.started_at == ZERO_TIME
        container.state.status = "created" if never_ran else "exited"
        container.state.exit_code, container.state.error = exit_code_for(message), message
        self.store.save(container)
        self.waits.changed(container.id, exited=False)

    def _stop_task(self, directory: Path) -> None:
        """Kill a task and wait for its exit (a start that fails after the process began)."""
        try:
            self.runtime.kill(directory, signals.SIGKILL)
        except Conflict:  # it has exited already
            pass
        self.runtime.wait(directory, timeout=DEFAULT_STOP_TIMEOUT)

    def _forget_task(self, directory: Path) -> None:
        """Delete the previous task, once its process is gone (it may still be exiting)."""
        try:
            self.runtime.delete(directory)
        except NotFound:
            pass
        except Conflict:
            self.runtime.wait(directory, timeout=DEFAULT_STOP_TIMEOUT)
            self.runtime.delete(directory)

    def _watch(self, container: Container, exit_of: Callable[[], TaskState]) -> None:
        """Hand the exit of the container's current run (`exit_of`: Runtime.watch's) over on a thread of its own."""
        threads.spawn(self._monitor, container, container.generation, exit_of, name=f"monitor-{container.id[:12]}")

    def _monitor(self, container: Container, generation: int, exit_of: Callable[[], TaskState]) -> None:
        """Wait for one run's process to exit, then hand its exit over."""
        self.exited(container, generation, exit_of())

    def exited(self, container: Container, generation: int, state: TaskState) -> None:
        """Record one run's exit (once), then restart or auto-remove as the container asks."""
        with container.lock:
            if generation != container.generation or container.state.status not in ("running", "paused"):
                return
            self.networking.release(container)  # first, so the saved record shows no address
            restart = restarts.should_restart(
                container.host_config.get("RestartPolicy") or {},
                _exit_code(state),
                container.state.restart_count,
                container.state.manually_stopped,
            )
            # saved once: as restarting (below), or not at all when remove() deletes it at once (a
            # crash in between leaves it running, and recover() finds the exit and removes it)
            self._record_exit(container, state, persist=not restart and not container.host_config.get("AutoRemove"))
            if restart:
                container.state.status = "restarting"
                container.state.restart_count += 1
                ran_for = self._clock() - self._run_began.get(container.id, self._clock())
                self._backoff[container.id] = restarts.next_delay(self._backoff.get(container.id, 0.0), ran_for)
                self.store.save(container)
            elif not container.host_config.get("AutoRemove"):
                self.snapshots.unmount(container.id)  # as dockerd: a stopped container keeps no mount
        if restart:
            threads.spawn(self._restart_later, container, generation, name=f"restart-{container.id[:12]}")
        elif container.host_config.get("AutoRemove"):
            # unsynced: the record still says running (its exit was not saved), so a power loss
            # that takes the delete leaves a container recover() finds exited and removes again
            self.remove(container, remove_volumes=True, durable=False)

    def _restart_later(self, container: Container, generation: int) -> None:
        self._sleep(self._backoff.get(container.id, restarts.BACKOFF_FIRST))
        with container.lock:
            if container.state.status == "restarting" and container.generation == generation:
                try:
                    self.start(container)
                except DockyardError:  # recorded on the container (State.Error), as any failed start
                    pass

    def _health_changed(self, container: Container, status: str | None) -> None:
        """A probe's result is kept; a new health status is announced."""
        self.store.save(container)
        if status is not None:
            self.publish(container, f"health_status: {status}")

    def _record_exit(self, container: Container, state: TaskState, persist: bool = True) -> None:
        self.health.stop(container)
        container.state.status = "exited"
        container.state.pid = 0
        container.state.exit_code = _exit_code(state)
        container.state.finished_at = state.finished_at or now_rfc3339()
        container.state.oom_killed = state.oom_killed
        self.mounts.deactivate(container)
        if persist:
            self.store.save(container, durable=_state_outlives_the_boot(container))
        if state.oom_killed:
            self.publish(container, "oom")
        self.publish(container, "die", exitCode=str(container.state.exit_code))
        self.waits.changed(container.id, exited=True)

    def recover(self) -> None:
        """At daemon start: repair what a power loss took of the snapshots, find running tasks
        again, handle the exits that happened meanwhile, and finish removals a crash
        interrupted (directories without a record)."""
        self.mounts.restore(self.table.all())
        for orphan in sorted(p.name for p in self.root.containers.iterdir() if p.name not in self.table):
            self._discard_files(orphan)
        for container in self.table.all():
            self._repair_snapshot(container)
            if not container.state.running:
                self._settle_unstarted(container)
                continue
            try:
                state = self.runtime.state(self._task(container))
            except NotFound:
                state = TaskState("stopped", None, 255, None, now_rfc3339())
            except Unavailable as exc:  # one wedged shim must not keep the daemon from starting
                log.warning("container %s left as recorded: %s", container.id, exc)
                continue
            if container.state.status == "restarting":
                container.state.status = "running"  # its task is this run's, alive or not
            if state.status == "running":  # a paused container stays paused
                self.health.start(container)
                self._watch(container, self.runtime.watch(self._task(container)))
            else:  # exited while no daemon watched: record it, then restart policy or auto-remove
                self.exited(container, container.generation, state)

    def _repair_snapshot(self, container: Container) -> None:
        """The snapshot's parent, written unsynced at create, as its record says: a power loss
        may have left the file missing, empty (which would read as "no parent") or cut short."""
        if container.snapshot_parent is None:
            return  # a record older than the field: its snapshot was prepared durably
        try:
            parent = Digest(container.snapshot_parent) if container.snapshot_parent else None
            if self.snapshots.repair(container.id, parent):
                log.warning("container %s: its snapshot's parent, lost with the power, restored", container.id)
        except DockyardError as exc:  # one broken snapshot must not keep the daemon from starting
            log.warning("container %s: snapshot not repaired: %s", container.id, exc)

    def _settle_unstarted(self, container: Container) -> None:
        """A container recorded as not running whose start a crash cut short (or whose `running`
        save a power loss took): its task (which no client was told of, or which died with the
        host) is killed and forgotten, its rootfs unmounted."""
        directory = self._task(container)
        try:
            if self.runtime.state(directory).status != "stopped":
                self.runtime.kill(directory, signals.SIGKILL)
                self.runtime.wait(directory)
                self._forget_task(directory)
        except (NotFound, Conflict):
            pass  # no task, or it exited meanwhile
        except Unavailable as exc:  # as in recover(): one wedged shim must not keep the daemon down
            log.warning("container %s left as recorded: %s", container.id, exc)
            return
        self.snapshots.unmount(container.id)

    def stop(self, container: Container, timeout: int | None, signal: str | None) -> None:
        """Stop signal, then SIGKILL after the timeout; the exit is recorded before returning."""
        directory = self._task(container)
        if container.state.status == "restarting":
            container.generation += 1
            container.state.status = "exited"
            self.store.save(container)
            return
        stop_signal = parse_signal(signal or container.config.get("StopSignal"))
        self.thaw(container)
        if timeout is None:
            timeout = container.config.get("StopTimeout")
        timeout = DEFAULT_STOP_TIMEOUT if timeout is None else timeout
        self._signal(container, stop_signal)
        state = self.runtime.wait(directory, timeout if 0 <= timeout <= MAX_STOP_TIMEOUT else None)
        if state.status != "stopped":
            self.kill_and_reap(container)
        else:
            self.exited(container, container.generation, state)

    def kill_and_reap(self, container: Container) -> None:
        """SIGKILL, then record the exit."""
        directory = self._task(container)
        self.thaw(container)
        self._signal(container, signals.SIGKILL)
        self.exited(container, container.generation, self.runtime.wait(directory))

    def _signal(self, container: Container, number: int) -> None:
        """Send a signal as part of stop/rm; a process that has just exited is not an error."""
        try:
            self.runtime.kill(self._task(container), number)
        except Conflict:
            return
        self.publish(container, "kill", signal=str(number))

    def remove(self, container: Container, remove_volumes: bool = False, durable: bool = True) -> None:
        """Forget a container that is not running (nothing if it runs again or is gone already),
        release its mounts (removing its anonymous volumes with `remove_volumes`), then discard its
        files. Not `durable`: a power loss may bring its record back (only where recover() then
        removes it)."""
        with container.lock:
            if container.id not in self.table:
                return
            if container.state.running:  # started again since the caller looked (prune, auto-remove)
                return
            container.state.status = "removing"
            self.pending.cancel(container.id)
            self.networking.release(container)
            self.store.delete(container.id, durable)
            self.mounts.release(container, remove_volumes)
            self.waits.removed(container.id, container.state.exit_code)
            self.table.discard(container.id)
            self._backoff.pop(container.id, None)
            self._run_began.pop(container.id, None)
        self.publish(container, "destroy")
        self.waits.changed(container.id, exited=False)  # `wait --condition removed` needs no more
        faults.point("rm.after-record")
        if container.state.started_at == ZERO_TIME:  # what prepare() made, never used
            self.runtime.unprepare(self._task(container))
        self._discard_files(container.id)

    def prepare(self, container_id: str) -> None:
        """Have the runtime make the init of the container that will take this ID ahead of its
        creation (a hint: see Runtime.prepare)."""
        self.runtime.prepare(self.root.container(container_id))

    def can_prepare(self, host: dict) -> bool:
        """Whether a container with this HostConfig can start on an init made ahead: our own
        runtime, new namespaces, Docker's cgroup path (specgen.may_prepare)."""
        return specgen.may_prepare(host) and self.runtimes.command(host.get("Runtime") or "") is None

    def _discard_files(self, container_id: str) -> None:
        """The task, snapshot and directory of a container whose record is gone (recover() finishes
        the job if the daemon dies half way)."""
        directory = self.root.container(container_id)
        self._forget_task(directory)
        self.snapshots.remove(container_id)
        shutil.rmtree(directory, ignore_errors=True)

    def reset_restarts(self, container: Container) -> None:
        """A start by the user: Docker forgets the restart count, the back-off and a manual stop."""
        container.state.manually_stopped = False
        container.state.restart_count = 0
        self._backoff.pop(container.id, None)

    def thaw(self, container: Container) -> None:
        """Resume a paused container (before a signal, which a frozen process cannot take)."""
        if container.state.status == "paused":
            self.runtime.resume(self._task(container))
            container.state.status = "running"
            self.store.save(container)

    def publish(self, container: Container, action: str, **extra: str) -> None:
        """A `container` event with the container's labels, image and name."""
        attributes = {
            **(container.config.get("Labels") or {}),
            "image": container.image,
            "name": container.name,
            **extra,
        }
        self.events.publish("container", action, container.id, attributes)


def _state_outlives_the_boot(container: Container) -> bool:
    """Whether a save of a run's state (started, exited) must survive a power loss.

    With a restart policy the record decides what the next boot restarts (a lost `running`
    save would leave a container started just before the loss down; a lost exit, recovered
    as 255, would restart one that `on-failure` had let be); with AutoRemove, whether the next
    boot removes it (one whose `running` save was lost would stay, Created, holding its name).
    Otherwise a lost save only misstates a process the power loss ended anyway (0121)."""
    if container.host_config.get("AutoRemove"):
        return True
    return (container.host_config.get("RestartPolicy") or {}).get("Name") not in (None, "", "no")


def _blank(path: Path) -> bool:
    """Missing or empty: what a power loss can leave of a file replaced without fsync."""
    try:
        return path.stat().st_size == 0
    except FileNotFoundError:
        return True


def _exit_code(state: TaskState) -> int:
    """The exit code to record; 255 when the runtime knows none (its shim died)."""
    return state.exit_code if state.exit_code is not None else 255


def _with_link_env(container: Container, find) -> Container:
    """`container` with its legacy links' variables before its own environment (moby's order)."""
    if not container.host_config.get("Links") or not links.legacy(container):
        return container
    env = [
        entry
        for link, child, address in links.resolve(container, find)
        for entry in links.environment(container.name, link, child, address)
    ]
    return replace(container, config={**container.config, "Env": merge_env(env, container.config.get("Env") or [])})

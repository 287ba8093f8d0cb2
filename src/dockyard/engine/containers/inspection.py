"""What the container service shows without changing anything: inspect, ps, logs, attach,
top, diff, stats, export (moby spreads its Daemon over inspect.go, logs.go, attach.go; here
ContainerService holds one ContainerInspection and hands these verbs to it).

It reads the shared container table and asks the runtime, snapshotter and image service;
attaching to a container that has not started yet waits among the service's pending attaches.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

from dockyard.chunks import produced
from dockyard.diskusage import du
from dockyard.engine.containers import changes, processes, specgen, stats, views
from dockyard.engine.containers.attach import PendingAttaches, ReplayStream, SocketStream
from dockyard.engine.containers.filters import compile_filters, matches, ports_match
from dockyard.engine.containers.model import Container
from dockyard.engine.containers.table import ContainerTable
from dockyard.errors import Conflict, InvalidArgument, NoSuchImage, NotFound
from dockyard.images.service import ImageService
from dockyard.multiplex import encode_frame
from dockyard.paths import DataRoot
from dockyard.runtime import logreader
from dockyard.runtime.runtime import Runtime
from dockyard.snapshots.snapshotter import Snapshotter
from dockyard.timestamps import now_rfc3339


class ContainerInspection:
    def __init__(
        self,
        table: ContainerTable,
        root: DataRoot,
        images: ImageService,
        snapshots: Snapshotter,
        runtime: Runtime,
        pending: PendingAttaches,
    ) -> None:
        self.table, self.root, self.images, self.snapshots = table, root, images, snapshots
        self.runtime, self.pending = runtime, pending

    def _task(self, container: Container) -> Path:
        return self.root.container(container.id)

    def inspect(self, ref: str, size: bool = False) -> dict:
        container = self.table.get(ref)
        snapshot = self.snapshots.paths(container.id)
        result = views.inspect(container, self.root, snapshot)
        if size:
            result["SizeRw"] = tree_size(snapshot.upper)
            result["SizeRootFs"] = result["SizeRw"] + self.images.resolve(container.image_id).size
        return result

    def list(self, all: bool, limit: int | None, size: bool, filters: dict[str, list[str]]) -> list[dict]:
        """`docker ps`: running ones unless `all`, a status filter or a limit; newest first."""
        ps = compile_filters(filters, self.table.get, self._image_id)
        everything = all or "status" in filters or (limit is not None and limit > 0)
        now = time.time()
        chosen = [c for c in self.table.all() if (everything or c.state.running) and matches(c, ps)]
        chosen.sort(key=lambda c: c.created, reverse=True)
        summaries = [s for s in (views.summary(c, now) for c in chosen) if ports_match(s, ps)]
        if limit is not None and limit > 0:
            summaries = summaries[:limit]
        if size:
            for entry in summaries:
                sizes = self.inspect(entry["Id"], size=True)
                for key in ("SizeRw", "SizeRootFs"):  # omitempty in moby's summary
                    if sizes[key]:
                        entry[key] = sizes[key]
        return summaries

    def _image_id(self, ref: str) -> str | None:
        try:
            return self.images.resolve(ref).id
        except NoSuchImage:
            return None  # as dockerd: an ancestor that is no image matches nothing

    # -- streams ----------------------------------------------------------------------

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
        container = self.table.get(ref)
        if not (stdout or stderr):
            raise InvalidArgument("Bad parameters: you must choose at least one stream")
        tail_count = int(tail) if tail.lstrip("-").isdigit() else None  # like moby: junk means all
        path = str(self.root.container_log(container.id))
        max_files = specgen.io_config(container, Path(path)).log_max_files
        wanted = {"stdout": stdout, "stderr": stderr}

        def entries() -> Iterator[tuple[int, bytes]]:
            reading = logreader.LogReading(path, max_files)
            following = follow and container.state.running  # asked once the files are open
            try:
                past = logreader.select(reading.past(), tail_count, int((since or 0) * 1e9), int((until or 0) * 1e9))
                live = (
                    reading.follow(lambda: container.state.running and container.id in self.table) if following else ()
                )
                for entry in itertools.chain(past, live):
                    if until and entry.time_ns > until * 1e9:
                        return
                    if wanted.get(entry.stream):
                        data = (entry.time.encode() + b" " + entry.data) if timestamps else entry.data
                        yield (2 if entry.stream == "stderr" else 1, data)
            finally:
                reading.close()

        return bool(container.config.get("Tty")), entries()

    def attach(self, ref: str, stdin: bool, stdout: bool, stderr: bool, logs: bool, stream: bool):
        """Replay the logged output first with `logs`; end there without `stream` (dockerd's
        attach: logs=1&stream=0 is a replay, stream=0 alone gives nothing)."""
        container = self.table.get(ref)
        tty = bool(container.config.get("Tty"))
        replay = self._replay(ref, stdout, stderr) if logs and (stdout or stderr) else b""
        if not stream:
            return ReplayStream(replay, None, tty)
        live = self._attach_live(container, tty, stdin, stdout, stderr)
        return ReplayStream(replay, live, tty) if replay else live

    def _replay(self, ref: str, stdout: bool, stderr: bool) -> bytes:
        tty, entries = self.logs(ref, False, stdout, stderr, None, None, False, "all")
        return b"".join(data if tty else encode_frame(kind, data) for kind, data in entries)

    def _attach_live(self, container: Container, tty: bool, stdin: bool, stdout: bool, stderr: bool):
        with container.lock:
            if container.state.status in ("running", "paused"):
                return SocketStream(self.runtime.attach(self._task(container), stdin, stdout, stderr), tty)
            return self.pending.add(container.id, tty, (stdin, stdout, stderr))

    def resize(self, ref: str, height: int, width: int) -> None:
        container = self.table.get(ref)
        if not container.state.running:
            raise Conflict(f"Container {container.id} is not running")
        self.runtime.resize(self._task(container), height, width)

    def export(self, ref: str) -> Iterator[bytes]:
        container = self.table.get(ref)

        def write(out) -> None:
            with container.lock:  # export may mount the rootfs: no start or remove meanwhile
                self.snapshots.export(container.id, out)

        return produced(write, "export")

    def top(self, ref: str, ps_args: str | None) -> dict:
        container = self.table.get(ref)
        if container.state.status not in ("running", "paused"):
            raise Conflict(f"Container {container.id} is not running")
        return processes.parse_ps(processes.run_ps(ps_args), self.runtime.pids(self._task(container)))

    def changes(self, ref: str) -> list[dict]:
        container = self.table.get(ref)
        snapshot = self.snapshots.paths(container.id)
        return [change.to_json() for change in changes.changes(snapshot.upper, list(snapshot.lowers))]

    def stats(self, ref: str, stream: bool) -> Iterator[dict]:
        """Samples once a second while streaming; one sample (with its predecessor) otherwise."""
        container = self.table.get(ref)
        previous = self._stats_sample(container, None)
        if stream:
            yield previous
        while container.state.running and container.id in self.table:
            time.sleep(1.0 if stream else 0.1)
            previous = self._stats_sample(container, previous)
            yield previous
            if not stream:
                return
        if not stream:
            yield previous

    def _stats_sample(self, container: Container, previous: dict | None) -> dict:
        try:
            usage = self.runtime.stats(self._task(container)) if container.state.running else None
        except (Conflict, NotFound):
            usage = None
        if usage is None:
            return stats.document(container.name, container.id, stats.ZERO_READ, None, None, None, None)
        return stats.document(
            container.name,
            container.id,
            now_rfc3339(),
            usage,
            stats.system_cpu_ns(),
            previous,
            stats.networks(container.state.pid),
        )


def tree_size(path) -> int:
    """Bytes of the files and links under `path` (a container's upper dir), each inode once."""
    return du(path, directories=False)

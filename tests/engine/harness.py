"""The one place engine tests build services: real services over FakeRuntime and FakeSnapshotter.

Everything but the runtime and the snapshotter is real (SQLite, content store, image
service, event bus). `Engine.restart()` is a daemon restart: new services over the same
database, snapshotter and runtime, whose tasks ran on meanwhile.
"""

from __future__ import annotations

import io
import tarfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from dockyard.content.local import LocalContentStore
from dockyard.engine.containers.mounting import ContainerMounts
from dockyard.engine.containers.service import ContainerService
from dockyard.engine.containers.store import ContainerStore
from dockyard.engine.containers.table import ContainerTable
from dockyard.engine.events import EventBus
from dockyard.engine.execs.service import ExecService
from dockyard.engine.images.service import ImageBackend
from dockyard.engine.system.service import SystemService
from dockyard.engine.volumes.service import VolumeService
from dockyard.images.importer import import_rootfs
from dockyard.images.service import ImageService
from dockyard.images.store import ImageStore
from dockyard.metadata.db import Database
from dockyard.paths import DataRoot
from dockyard.runtime.cgroups.sysinfo import HostLimits
from dockyard.testing import FakeRuntime, FakeSnapshotter
from dockyard.volumes.local import LocalDriver
from dockyard.volumes.store import VolumeStore

HOST_LIMITS = HostLimits(ncpu=2, cpus="0-1", mems="0", sys_resource=True)  # a v1 host with every knob but blkio weight
COMMANDS = ("sh", "sleep", "true", "false", "echo", "cat", "service")


class Sleeps:
    """The restart back-off's sleep: records each delay and returns at once (or holds when paused)."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.open = threading.Event()
        self.open.set()

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.open.wait()


class Clock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def rootfs_tar() -> bytes:
    """A tiny image rootfs: stand-ins for busybox's commands, /etc/passwd and /etc/group."""
    files = {f"bin/{name}": b"#!fake\n" for name in COMMANDS}
    files["etc/passwd"] = b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n"
    files["etc/group"] = b"root:x:0:\napp:x:1000:\n"
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for directory in ("bin", "etc", "root", "tmp"):
            info = tarfile.TarInfo(directory)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755 if name.startswith("bin/") else 0o644
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


@dataclass
class Engine:
    root: DataRoot
    runtime: FakeRuntime
    snapshots: FakeSnapshotter
    clock: Clock = field(default_factory=Clock)
    sleeps: Sleeps = field(default_factory=Sleeps)

    def __post_init__(self) -> None:
        self._build()

    def _build(self) -> None:
        self.db = Database(self.root.database)
        self.events = EventBus()
        self.images = ImageService(ImageStore(self.db), LocalContentStore(self.root), self.snapshots)
        store = ContainerStore(self.db)
        table = ContainerTable(store.load_all())
        self.volumes = VolumeService(VolumeStore(self.db), LocalDriver(self.root), self.events)
        self.containers = ContainerService(
            self.root,
            store,
            table,
            self.images,
            self.snapshots,
            self.runtime,
            self.events,
            ContainerMounts(self.volumes, table.get),
            clock=self.clock,
            sleep=self.sleeps,
            host_limits=HOST_LIMITS,
        )
        self.execs = ExecService(self.containers, self.runtime, self.root, self.events)
        self.image_backend = ImageBackend(self.images, self.containers, self.events, self.root.tmp, None)
        self.system = SystemService(self.root, self.containers, self.image_backend, self.volumes, self.events)

    def stop_daemon(self) -> None:
        """The daemon dies: its threads hear of no more exits; the tasks run on."""
        self.runtime.abandon_waits()
        self._quiesce()
        self.db.close()

    def _quiesce(self) -> None:
        """Stop the health probes and let an exit already heard finish recording (it holds the
        container's lock)."""
        for container in self.containers.all():
            self.containers.lifecycle.health.stop(container)
            with container.lock:
                pass

    def start_daemon(self) -> None:
        """A new daemon over the same data root, snapshotter and runtime; it recovers."""
        self.sleeps = Sleeps()
        self._build()
        self.containers.recover()

    def restart(self) -> None:
        self.stop_daemon()
        self.start_daemon()

    def state_dir(self, ref: str) -> Path:
        return self.root.container(self.containers.get(ref).id)

    def run(self, *command: str, name: str | None = None, **host_config) -> str:
        """create + start busybox with `command`; the container's ID."""
        config = {"Image": "busybox", "Cmd": list(command)} if command else {"Image": "busybox"}
        container_id = self.containers.create(name, config, host_config, None)["Id"]
        self.containers.start(container_id)
        return container_id

    def close(self) -> None:
        """Stop hearing of exits and close the database (the fake tasks hold no processes)."""
        self.runtime.abandon_waits()
        self.sleeps.open.set()
        self._quiesce()
        self.db.close()


def build_engine(tmp_path: Path) -> Engine:
    """Services over a fresh data root with a `busybox` image already imported."""
    root = DataRoot(tmp_path / "data")
    root.create()
    engine = Engine(root, FakeRuntime(), FakeSnapshotter(root))
    image = import_rootfs(engine.images, io.BytesIO(rootfs_tar()), ['CMD ["sh"]'], None, None)
    engine.images.tag(image.id, "busybox:latest")
    return engine

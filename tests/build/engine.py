"""A real build engine in-process on a temporary data root (root): images, snapshots,
containers run by shims, the build cache, and BuildService, wired as daemon.py does."""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from dockyard.build.cache import BuildCache
from dockyard.content.local import LocalContentStore
from dockyard.engine.builds.service import BuildService
from dockyard.engine.containers.mounting import ContainerMounts
from dockyard.engine.containers.networking import LoopbackOnly
from dockyard.engine.containers.service import ContainerService
from dockyard.engine.containers.store import ContainerStore
from dockyard.engine.containers.table import ContainerTable
from dockyard.engine.events import EventBus
from dockyard.engine.volumes.service import VolumeService
from dockyard.images.importer import import_rootfs
from dockyard.images.service import ImageService
from dockyard.images.store import ImageStore
from dockyard.metadata.db import Database
from dockyard.paths import DataRoot
from dockyard.runtime.client import ShimRuntime
from dockyard.snapshots.overlay import OverlaySnapshotter
from dockyard.volumes.local import LocalDriver
from dockyard.volumes.store import VolumeStore
from tests.e2e.daemon import BUSYBOX_ROOTFS, _unmount_under

Files = dict[str, object]  # path -> bytes | str | ("symlink", target) | (bytes, mode)


def context_tar(files: Files) -> bytes:
    """A build context tar from {path: content}."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.mtime = 1_600_000_000
            if isinstance(content, tuple) and content[0] == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, content[1]
                tar.addfile(info)
                continue
            data, mode = content if isinstance(content, tuple) else (content, 0o644)
            data = data.encode() if isinstance(data, str) else data
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


class Engine:
    """Services over one data root; `restart()` builds them again as a new daemon would."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="dockyard-build-test-", dir="/var/tmp"))
        self.root = DataRoot(self.base / "data")
        self.root.create()
        self.runtime = ShimRuntime()
        self._wire()
        rootfs = subprocess.run([str(BUSYBOX_ROOTFS)], check=True, capture_output=True).stdout
        image = import_rootfs(self.images, io.BytesIO(rootfs), [], None, None)
        self.images.tag(image.id, "busybox:latest")

    def _wire(self) -> None:
        self.db = Database(self.root.database)
        snapshots = OverlaySnapshotter(self.root)
        self.images = ImageService(ImageStore(self.db), LocalContentStore(self.root), snapshots)
        self.events = EventBus()
        store = ContainerStore(self.db)
        table = ContainerTable(store.load_all())
        mounts = ContainerMounts(VolumeService(VolumeStore(self.db), LocalDriver(self.root), self.events), table.get)
        self.containers = ContainerService(
            self.root, store, table, self.images, snapshots, self.runtime, self.events, mounts, LoopbackOnly()
        )
        self.service = BuildService(self.root, BuildCache(self.db), self.images, self.containers, self.events)

    def restart(self) -> None:
        self.db.close()
        self._wire()

    def build(self, files: Files, **options) -> tuple[list[dict], str | None]:
        """Build; return every message and the image ID (None when the build failed)."""
        defaults = dict(
            dockerfile="Dockerfile",
            tags=[],
            build_args={},
            labels={},
            no_cache=False,
            pull=False,
            quiet=False,
            target="",
            network_mode="bridge",
            platform="",
            remove=True,
            force_remove=True,
            shm_size=0,
            extra_hosts=[],
            auths={},
        )
        messages = list(self.service.build(io.BytesIO(context_tar(files)), **{**defaults, **options}))
        ids = [m["aux"]["ID"] for m in messages if "aux" in m]
        failed = any("error" in m for m in messages)
        return messages, None if failed or not ids else ids[-1]

    def run(self, image_id: str, *command: str) -> str:
        """The output of a container of the image running `command`."""
        config = {"Image": image_id, "Cmd": list(command), "Entrypoint": [""]}
        container_id = self.containers.create(None, config, {}, None)["Id"]
        try:
            stream = self.containers.attach(container_id, False, True, True, False, True)
            self.containers.start(container_id)
            output = b""
            while data := stream.recv(65536):
                output += data
            stream.close()
            self.containers.wait(container_id, "not-running")
        finally:
            self.containers.remove(container_id, force=True, volumes=True)
        return _demux(output)

    def close(self) -> None:
        for container in self.containers.all():
            self.containers.remove(container.id, force=True, volumes=True)
        self.runtime.close()
        self.db.close()
        _unmount_under(self.base)
        shutil.rmtree(self.base, ignore_errors=True)


def _demux(data: bytes) -> str:
    from dockyard.multiplex import FrameDecoder

    return "".join(payload.decode() for _stream, payload in FrameDecoder().feed(data))


def text(messages: list[dict]) -> str:
    """The stream messages joined, as `docker build` prints them."""
    return "".join(m.get("stream", "") for m in messages)


def error(messages: list[dict]) -> str:
    return next((m["error"] for m in messages if "error" in m), "")

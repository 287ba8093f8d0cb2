"""The daemon: builds every part explicitly, top to bottom, then serves the API.

    DataRoot ─> Database ─> ContentStore, Snapshotter ─> ImageService
             ─> Runtime (shims) ─> ContainerService ─> ExecService
             ─> EventBus, SystemService, ImageBackend ─> ApiServer on the unix socket

Stopping the daemon (SIGTERM, SIGINT, or SIGKILL) never stops containers: their shims keep
them, and the next daemon finds them again in `ContainerService.recover()`.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path

from dockyard.api.backend import Backends
from dockyard.api.server import ApiServer
from dockyard.content.local import LocalContentStore
from dockyard.engine.containers import ContainerService
from dockyard.engine.events import EventBus
from dockyard.engine.execs import ExecService
from dockyard.engine.images import ImageBackend
from dockyard.engine.store import ContainerStore
from dockyard.engine.system import SystemService
from dockyard.images.service import ImageService
from dockyard.images.store import ImageStore
from dockyard.metadata.db import Database
from dockyard.paths import DEFAULT_DATA_ROOT, DEFAULT_SOCKET, DataRoot
from dockyard.runtime.client import ShimRuntime
from dockyard.snapshots.overlay import OverlaySnapshotter

log = logging.getLogger("dockyard")


def build(data_root: Path, socket_path: Path) -> ApiServer:
    """Wire every service over `data_root` and bind the API socket."""
    root = DataRoot(data_root)
    root.create()
    db = Database(root.database)
    content = LocalContentStore(root)
    content.clean_ingests()
    snapshots = OverlaySnapshotter(root)
    images = ImageService(ImageStore(db), content, snapshots)
    events = EventBus()
    containers = ContainerService(root, ContainerStore(db), images, snapshots, ShimRuntime(), events)
    containers.recover()
    backends = Backends(
        containers=containers,
        execs=ExecService(containers),
        images=ImageBackend(images, events, root.tmp, containers.image_user),
        system=SystemService(root, containers, images, events),
    )
    return ApiServer(backends, socket_path)


def run_daemon(data_root: Path = DEFAULT_DATA_ROOT, socket_path: Path = DEFAULT_SOCKET,
               config_file: Path | None = None, debug: bool = False) -> int:
    """Serve until SIGTERM or SIGINT; return the exit status."""
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    server = build(Path(data_root), Path(socket_path))
    pid_file = Path(socket_path).with_suffix(".pid")
    pid_file.write_text(f"{os.getpid()}\n")

    def stop(signum: int, _frame: object) -> None:
        log.info("received %s, shutting down (containers keep running)", signal.Signals(signum).name)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("dockyard daemon listening on unix://%s (data root %s)", socket_path, data_root)
    try:
        server.serve_forever()
    finally:
        pid_file.unlink(missing_ok=True)
    return 0

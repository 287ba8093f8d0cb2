"""The daemon: builds every part explicitly, top to bottom, then serves the API.

    DataRoot ─> Database ─> ContentStore, Snapshotter ─> ImageService ─> Collector (content GC)
             ─> ContainerStore ─> ContainerTable (the known containers, loaded from the store)
             ─> NetworkController ─> ContainerNetworks (finds `container:<name>` in the table)
             ─> VolumeService ─> ContainerMounts (finds `--volumes-from` containers in the table)
             ─> Runtime (shims), EventBus
             ─> ContainerService (store, table, images, snapshots, runtime, events, mounts, networking)
             ─> ExecService, NetworkService, ImageBackend, SystemService, ContainerArchive (each asks ContainerService)
             ─> ApiServer on the unix socket

Stopping the daemon (SIGTERM, SIGINT, or SIGKILL) never stops containers: their shims keep
them, and the next daemon finds them again in `ContainerService.recover()`; their bridges,
veths and rules stay too, and `NetworkController.recover()` drops those of containers gone meanwhile.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from dockyard.api.backend import Backends
from dockyard.api.server import ApiServer
from dockyard.build.cache import BuildCache
from dockyard.content.local import LocalContentStore
from dockyard.distribution.client import Registries
from dockyard.distribution.config import DEFAULT_CONFIG_FILE, RegistryConfig
from dockyard.engine.builds.service import BuildService
from dockyard.engine.containers import procinit
from dockyard.engine.containers.archive import ContainerArchive
from dockyard.engine.containers.mounting import ContainerMounts
from dockyard.engine.containers.networking import LoopbackOnly
from dockyard.engine.containers.service import ContainerService
from dockyard.engine.containers.store import ContainerStore
from dockyard.engine.containers.table import ContainerTable
from dockyard.engine.events import EventBus
from dockyard.engine.execs.service import ExecService
from dockyard.engine.images.distribution import DistributionService
from dockyard.engine.images.service import ImageBackend
from dockyard.engine.networks.service import NetworkService
from dockyard.engine.networks.wiring import ContainerNetworks, network_config
from dockyard.engine.system.service import SystemService
from dockyard.engine.volumes.service import VolumeService
from dockyard.errors import Conflict, DockyardError, InvalidArgument
from dockyard.images.compressed import CompressedLayers
from dockyard.images.gc import Collector
from dockyard.images.pull import Puller
from dockyard.images.push import ImagePusher
from dockyard.images.service import ImageService
from dockyard.images.store import ImageStore
from dockyard.metadata.db import Database
from dockyard.network.controller import NetworkController
from dockyard.paths import DEFAULT_DATA_ROOT, DEFAULT_SOCKET, DataRoot
from dockyard.runtime.cgroups import sysinfo
from dockyard.runtime.client import ShimRuntime
from dockyard.runtime.runtimes import OciRuntimes
from dockyard.snapshots.overlay import OverlaySnapshotter
from dockyard.volumes.local import LocalDriver
from dockyard.volumes.store import VolumeStore

log = logging.getLogger("dockyard")


def load_settings(config_file: Path | None) -> dict:
    """dockerd's daemon.json (`--config-file`, else /etc/dockyard/daemon.json if it exists); {} without one.

    Raises InvalidArgument.
    """
    if config_file is None:
        if not DEFAULT_CONFIG_FILE.is_file():
            return {}
        config_file = DEFAULT_CONFIG_FILE
    try:
        settings = json.loads(Path(config_file).read_text())
    except (OSError, ValueError) as exc:
        raise InvalidArgument(f"unable to configure the daemon with file {config_file}: {exc}") from None
    if not isinstance(settings, dict):
        raise InvalidArgument(f"unable to configure the daemon with file {config_file}: not a JSON object")
    check_settings(settings, config_file)
    return settings


# the daemon.json keys dockyard honours; dockerd's others are refused, never ignored
HONOURED_SETTINGS = (
    "bip",
    "bridge",  # "none" only
    "default-address-pools",
    "mtu",
    "default-runtime",
    "runtimes",
    "init-path",
    "insecure-registries",
    "registry-mirrors",
    "registry-mirrors-map",  # dockyard's own: mirrors for registries other than Docker Hub
    "max-concurrent-downloads",
    "max-concurrent-uploads",
)


def check_settings(settings: dict, config_file: Path) -> None:
    """Refuse what dockyard would otherwise drop: a key it does not honour (dockerd refuses a
    key it does not know, in these words but for "dockyard honours") and a `bridge` other
    than "none"."""
    unknown = [key for key in settings if key not in HONOURED_SETTINGS]
    if unknown:
        raise InvalidArgument(
            f"unable to configure the daemon with file {config_file}: the following directives don't match"
            f" any configuration option dockyard honours: {', '.join(unknown)}"
        )
    if settings.get("bridge") not in (None, "none"):
        raise InvalidArgument(
            f"unable to configure the daemon with file {config_file}: bridge {settings['bridge']!r}: the default"
            ' network has a bridge of dockyard\'s own (dockyard0); only "none" is honoured'
        )


def _lock_data_root(root: DataRoot) -> None:
    """Hold an exclusive lock on the data root for the rest of the process. Raises Conflict.

    Two daemons on one data root would each recover the other's containers; the lock file
    is opened close-on-exec so no shim inherits it.
    """
    fd = os.open(root.root / "dockyard.lock", os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise Conflict(f"another dockyard daemon is using the data root {root.root}") from None


def _network_controller(db: Database, settings: dict) -> NetworkController | None:
    """The started network controller; None with daemon.json `"bridge": "none"` (loopback only)."""
    if settings.get("bridge") == "none":
        return None
    controller = NetworkController(db, network_config(settings))
    controller.start()
    return controller


def build(data_root: Path, socket_path: Path, settings: dict | None = None) -> ApiServer:
    """Wire every service over `data_root` (with daemon.json `settings`) and bind the API socket."""
    root = DataRoot(data_root)
    root.create()
    _lock_data_root(root)
    db = Database(root.database)
    content = LocalContentStore(root)
    snapshots = OverlaySnapshotter(root)
    images = ImageService(ImageStore(db), content, snapshots)
    compressed = CompressedLayers(db, content)
    collector = Collector(images, compressed, root.tmp)
    events = EventBus()
    registries = Registries(RegistryConfig.from_daemon_json(settings or {}))
    distribution = DistributionService(
        Puller(images, registries), ImagePusher(images, registries, compressed), registries, events
    )
    store = ContainerStore(db)
    table = ContainerTable(store.load_all())
    controller = _network_controller(db, settings or {})
    networking = ContainerNetworks(controller, root, table) if controller else LoopbackOnly()
    volumes = VolumeService(VolumeStore(db), LocalDriver(root), events)
    mounts = ContainerMounts(volumes, table.get)
    runtime = ShimRuntime()
    containers = ContainerService(
        root,
        store,
        table,
        images,
        snapshots,
        runtime,
        events,
        mounts,
        networking,
        host_limits=sysinfo.probe(),
        init_path=(settings or {}).get("init-path") or procinit.DEFAULT_INIT_PATH,
        runtimes=OciRuntimes.from_daemon_json(settings or {}),
    )
    containers.recover()
    collector.collect(at_start=True)  # what a crash left half made (layers under containers stay)
    if controller:
        controller.recover(
            {c.id: f"/proc/{c.state.pid}/ns/net" for c in containers.all() if c.state.running and c.state.pid}
        )
    builds = BuildService(root, BuildCache(db), images, containers, events, distribution)
    image_backend = ImageBackend(images, containers, events, root.tmp, distribution, collector)
    backends = Backends(
        containers=containers,
        execs=ExecService(containers, runtime, root, events),
        images=image_backend,
        system=SystemService(root, containers, image_backend, volumes, events, distribution),
        networks=NetworkService(controller, containers, networking, events) if controller else None,
        volumes=volumes,
        archive=ContainerArchive(containers, mounts),
        builds=builds,
    )
    return ApiServer(backends, socket_path)


def run_daemon(
    data_root: Path = DEFAULT_DATA_ROOT,
    socket_path: Path = DEFAULT_SOCKET,
    config_file: Path | None = None,
    debug: bool = False,
) -> int:
    """Serve until SIGTERM or SIGINT; return the exit status."""
    # A signal mask inherited from whatever started us (a parent that blocked SIGTERM) would
    # leave the daemon unstoppable, and reach every thread, shim and container made below.
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    server = build(Path(data_root), Path(socket_path), load_settings(config_file))
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


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{message}\nSee '{self.prog} --help'.\n")
        raise SystemExit(125)  # docker's exit code for bad flags


def main(argv: list[str], host: str | None = None, debug: bool = False) -> int:
    """`dockyard [-H HOST] [-D] daemon [--data-root DIR] [-H unix:///path] [--config-file FILE] [-D]`.

    The daemon's -H wins over the global one, then DOCKYARD_HOST, then the default socket.
    Returns the exit status: 1, with the reason on stderr, if the daemon cannot start.
    """
    parser = _Parser(prog="dockyard daemon", description="Run the dockyard daemon")
    parser.add_argument("--data-root", default=str(DEFAULT_DATA_ROOT))
    parser.add_argument("-H", "--host", default=None)
    parser.add_argument("--config-file")
    parser.add_argument("-D", "--debug", action="store_true")
    ns = parser.parse_args(argv)
    address = ns.host or host or os.environ.get("DOCKYARD_HOST") or f"unix://{DEFAULT_SOCKET}"
    try:
        socket_path = Path(_unix_path(address))
        config = Path(ns.config_file) if ns.config_file else None
        return run_daemon(Path(ns.data_root), socket_path, config, ns.debug or debug)
    except DockyardError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1


def _unix_path(host: str) -> str:
    """The filesystem path of a `unix://` address. Raises InvalidArgument."""
    if host.startswith("unix://"):
        return host[len("unix://") :]
    if host.startswith("/"):
        return host
    raise InvalidArgument(f"invalid host {host!r}: only unix:// sockets are supported")

"""The data root's layout, in one place.

    <root>/                          default /var/lib/dockyard, `--data-root` to move it
      dockyard.db                    SQLite: images, tags, repo digests, compressed layers,
                                     containers, networks with their endpoints and ports
      dockyard.lock                  flock held by the daemon using this data root
      engine-id                      the daemon's ID (`docker info`)
      blobs/sha256/<hex>             content store: manifests, configs, compressed layers
      ingest/<random>                a blob being written, renamed into blobs/ once verified
      layers/<chain-hex>/            one unpacked layer: diff/ (the lowerdir), parent, diff_id, size
      layers/l/<short>               short symlinks to layers/<chain-hex>/diff (overlay option length)
      containers/<id>/               one container
        rootfs/ upper/ work/ parent  the snapshotter's: mount point, overlay dirs, parent chain ID
                                     (the engine asks Snapshotter.paths(), never builds these)
        hostname hosts resolv.conf   generated files, bind-mounted into the container
        task.json                    what the runtime was handed (OCI spec, stdio), read by the shim
        shim.sock shim.pid shim.log  the shim's control socket, pid and log
        exit.json                    the process's recorded exit, written by the shim
        <id>-json.log                json-file log (rotated: .1, .2, ...)
        execs/<exec-id>/             one exec process: its own task.json, shim files, exit.json
      volumes/                       made at start-up; nothing is stored in it yet
      tmp/                           scratch space on the same filesystem (atomic renames)

The runtime directory (default /run/dockyard) holds the API socket and the daemon pid file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_ROOT = Path("/var/lib/dockyard")
DEFAULT_RUN_ROOT = Path("/run/dockyard")
DEFAULT_SOCKET = DEFAULT_RUN_ROOT / "dockyard.sock"


@dataclass(frozen=True, slots=True)
class DataRoot:
    """Maps every path under the data root; creates nothing by itself."""

    root: Path = DEFAULT_DATA_ROOT

    @property
    def database(self) -> Path:
        return self.root / "dockyard.db"

    @property
    def blobs(self) -> Path:
        return self.root / "blobs"

    @property
    def ingest(self) -> Path:
        return self.root / "ingest"

    @property
    def layers(self) -> Path:
        return self.root / "layers"

    @property
    def containers(self) -> Path:
        return self.root / "containers"

    @property
    def volumes(self) -> Path:
        return self.root / "volumes"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    def container(self, container_id: str) -> Path:
        return self.containers / container_id

    def container_log(self, container_id: str) -> Path:
        return self.container(container_id) / f"{container_id}-json.log"

    def exec_dir(self, container_id: str, exec_id: str) -> Path:
        return self.container(container_id) / "execs" / exec_id

    def create(self) -> None:
        """Make the top-level directories (idempotent)."""
        for path in (self.blobs, self.ingest, self.layers, self.containers, self.volumes, self.tmp):
            path.mkdir(parents=True, exist_ok=True)

"""The data root's layout, in one place.

    <root>/                          default /var/lib/dockyard, `--data-root` to move it (0710)
      dockyard.db                    SQLite: images, tags, repo digests, compressed layers,
                                     containers, networks with their endpoints and ports (0600)
      dockyard.lock                  flock held by the daemon using this data root
      engine-id                      the daemon's ID (`docker info`)
      blobs/sha256/<hex>             content store: manifests, configs, compressed layers
      ingest/<random>                a blob being written, renamed into blobs/ once verified
                                     (blobs and layers nothing references: images/gc.py)
      layers/<chain-hex>/            one unpacked layer: diff/ (the lowerdir), parent, diff_id, size
      layers/l/<short>               short symlinks to layers/<chain-hex>/diff (overlay option length)
      init-layer/                    the empty mount points every container's rootfs shows
                                     (/etc/hosts, ..., /.dockerenv): one lowerdir for all
      containers/<id>/               one container (containers/ and each <id>/ 0700)
        rootfs/ upper/ work/ parent  the snapshotter's: mount point, overlay dirs, parent chain ID
                                     (the engine asks Snapshotter.paths(), never builds these)
        hostname hosts resolv.conf   generated files, bind-mounted into the container
        task.json                    what the runtime was handed (OCI spec with the env, stdio;
                                     for dockyard's init, the seccomp profile as its compiled
                                     program), read by the shim (0600)
        shim.sock shim.pid shim.log  the shim's control socket, pid and log
        exit.json                    the process's recorded exit, written by the shim
        <id>-json.log                json-file log (rotated: .1, .2, ...)
        execs/<exec-id>/             one exec process: its own task.json, shim files, exit.json
      volumes/<name>/_data           a local volume's files (volumes/local.py)
      tmp/                           scratch space on the same filesystem (atomic renames),
                                     emptied at start-up

The runtime directory (default /run/dockyard) holds the API socket and the daemon pid file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dockyard.topdir import mark_top_directory

DEFAULT_DATA_ROOT = Path("/var/lib/dockyard")
DEFAULT_RUN_ROOT = Path("/run/dockyard")
DEFAULT_SOCKET = DEFAULT_RUN_ROOT / "dockyard.sock"
PRIVATE_ROOT_MODE = 0o710  # root:root; group traversal only
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


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
    def init_layer(self) -> Path:
        return self.root / "init-layer"

    @property
    def containers(self) -> Path:
        return self.root / "containers"

    @property
    def volumes(self) -> Path:
        return self.root / "volumes"

    def volume_data(self, name: str) -> Path:
        return self.volumes / name / "_data"

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
        """Make the top-level directories (idempotent), fix up their modes (`secure`), and have
        the directories made in layers/, containers/, volumes/ and tmp/ spread over the disk."""
        for path in (self.blobs, self.ingest, self.layers, self.containers, self.volumes, self.tmp):
            path.mkdir(parents=True, exist_ok=True)
        for path in (self.layers, self.containers, self.volumes, self.tmp):
            mark_top_directory(path)
        self.secure()

    def secure(self) -> None:
        """Docker's modes, also on a data root made before they were set (CVE-2021-41091):
        the root 0710 and `containers/` and each container directory 0700, so no other user
        reaches a container's rootfs; the files holding environment values 0600."""
        self.root.chmod(PRIVATE_ROOT_MODE)
        self.containers.chmod(PRIVATE_DIR_MODE)
        for directory in self.containers.iterdir():
            if directory.is_dir() and not directory.is_symlink():
                directory.chmod(PRIVATE_DIR_MODE)
                for task in (directory / "task.json", *directory.glob("execs/*/task.json")):
                    if task.is_file():
                        task.chmod(PRIVATE_FILE_MODE)
        if self.database.is_file():
            self.database.chmod(PRIVATE_FILE_MODE)

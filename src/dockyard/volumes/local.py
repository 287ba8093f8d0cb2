"""Docker's `local` volume driver: a directory volumes/<name>/_data, or, with options, a
filesystem mounted there while a container uses the volume (moby volume/local).

    options                                   mounted at volumes/<name>/_data
    (none)                                    nothing: the directory is the volume
    type=tmpfs device=tmpfs o=size=64m        a tmpfs (its content goes with the last user)
    type=none device=/srv/data o=bind         a bind mount of a host directory
    type=nfs device=:/export o=addr=host,rw   an NFS export (a host name in addr= is resolved)
"""

from __future__ import annotations

import errno
import re
import shutil
import socket
from pathlib import Path

from dockyard.errors import InvalidArgument, RuntimeFailure
from dockyard.paths import DataRoot
from dockyard.runtime import syscalls as sc
from dockyard.runtime.mounts import parse_options
from dockyard.snapshots.mountinfo import is_mounted
from dockyard.units import ram_in_bytes
from dockyard.volumes.store import VolumeRecord

DRIVER = "local"
_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
_VALID_OPTIONS = ("type", "o", "device", "size")
_REQUIRED = {"device": ("type",), "type": ("device",), "o": ("device", "type")}


def check_name(name: str) -> None:
    """Raises InvalidArgument for a name the local driver cannot hold (Docker's words)."""
    if not _NAME.match(name):
        raise InvalidArgument(
            f'"{name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" '
            "are allowed. If you intended to pass a host directory, use absolute path"
        )


def check_options(options: dict[str, str]) -> None:
    """Raises InvalidArgument for options the local driver refuses (Docker's words)."""
    for key in options:
        if key not in _VALID_OPTIONS:
            raise InvalidArgument(f'invalid option: "{key}"')
    if options.get("size") and ram_in_bytes(options["size"]):
        raise InvalidArgument("quota size requested but no quota support")
    for key, needed in _REQUIRED.items():
        if key in options:
            for other in needed:
                if other not in options:
                    raise InvalidArgument(f'missing required option: "{other}"')


def mount_data(options: dict[str, str]) -> tuple[int, str]:
    """The `o=` option as mount(2) flags and filesystem data; an NFS/CIFS addr= host resolved."""
    parsed = parse_options([o for o in options.get("o", "").split(",") if o])
    data = parsed.data
    if options.get("type") in ("nfs", "cifs"):
        data = ",".join(_resolved_addr(item) for item in data.split(",") if item)
    return parsed.flags, data


def _resolved_addr(item: str) -> str:
    key, _, value = item.partition("=")
    if key != "addr" or not value:
        return item
    try:
        return f"addr={socket.gethostbyname(value)}"
    except OSError as exc:
        raise InvalidArgument(f"error resolving passed in network volume address: {exc}") from None


class LocalDriver:
    """Creates, mounts and removes local volumes under the data root."""

    def __init__(self, root: DataRoot) -> None:
        self.root = root
        root.volumes.mkdir(mode=0o701, parents=True, exist_ok=True)

    def path(self, name: str) -> Path:
        return self.root.volume_data(name)

    def create(self, name: str) -> Path:
        (self.root.volumes / name).mkdir(mode=0o701, exist_ok=True)
        data = self.path(name)
        data.mkdir(mode=0o755, exist_ok=True)
        return data

    def mount(self, record: VolumeRecord) -> Path:
        """Mount the volume's filesystem if it has one and it is not mounted yet; the path."""
        data = self.path(record.name)
        if not record.options.get("device") or is_mounted(data):
            return data
        flags, options = mount_data(record.options)
        kind = record.options.get("type")
        try:
            sc.mount(record.options["device"], str(data), None if kind == "none" else kind, flags, options or None)
        except OSError as exc:
            raise RuntimeFailure(f"error while mounting volume '{data}': failed to mount local volume: {exc}") from None
        return data

    def unmount(self, record: VolumeRecord) -> None:
        data = self.path(record.name)
        if record.options.get("device") and is_mounted(data):
            try:
                sc.umount2(str(data), 0)
            except OSError as exc:
                if exc.errno != errno.EBUSY:
                    raise
                sc.umount2(str(data), sc.MNT_DETACH)

    def remove(self, record: VolumeRecord) -> None:
        self.unmount(record)
        shutil.rmtree(self.root.volumes / record.name, ignore_errors=True)

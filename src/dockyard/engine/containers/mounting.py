"""What the container service needs of volumes, around the pure rules of mounts.py: the mount
points of a new container (volumes created on first use and referenced), their activation at
start (the driver's filesystem mounted, a missing `-v` bind source made, image content
copied up into an empty volume), and their release at exit and at removal.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from dockyard.engine.containers.model import Container
from dockyard.engine.containers.mounts import MountPoint, inherited, mount_points, parse_volumes_from, points_of
from dockyard.engine.volumes.service import VolumeService
from dockyard.errors import InvalidArgument, NotFound, RuntimeFailure
from dockyard.runtime import syscalls as sc
from dockyard.volumes.copyup import copy_up, is_empty

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
IN_ROOT = sc.RESOLVE_IN_ROOT | sc.RESOLVE_NO_MAGICLINKS


def open_in_root(root_fd: int, path: str, flags: int = _DIR) -> int:
    """`path` opened inside the directory `root_fd` as if it were `/`: `..` and symlinks never
    leave it (openat2 RESOLVE_IN_ROOT). Raises OSError."""
    return sc.openat2(root_fd, path, flags, IN_ROOT)


class ContainerMounts:
    def __init__(self, volumes: VolumeService, lookup: Callable[[str], Container]) -> None:
        self.volumes, self.lookup = volumes, lookup

    def prepare(self, container: Container, readonly_recursive: bool = True) -> None:
        """Set container.mounts for a new container, creating and referencing its volumes;
        without `readonly_recursive` (clients before API 1.44) read-only mounts are so only at
        their top.

        Raises InvalidArgument (bad specs, a missing --mount bind source or volumes-from
        container: moby's 400 "No such container: x").
        """
        shared: list[MountPoint] = []
        for spec in container.host_config.get("VolumesFrom") or []:
            ref, mode = parse_volumes_from(spec)
            try:
                source = self.lookup(ref)
            except NotFound as exc:
                raise InvalidArgument(str(exc)) from None
            shared += inherited(points_of(source.mounts), mode)
        points = mount_points(container.config, container.host_config, shared)
        if not readonly_recursive:
            points = [replace(p, readonly_non_recursive=True) if not p.rw else p for p in points]
        for point in points:
            if point.type == "bind" and not point.create_source and not os.path.exists(point.source):
                raise InvalidArgument(
                    f'invalid mount config for type "bind": bind source path does not exist: {point.source}'
                )
        container.mounts = []  # filled as volumes are made, so release() undoes a failure half way
        for point in points:
            container.mounts.append(
                (self._volume(point, container.id) if point.type == "volume" else point).to_record()
            )

    def _volume(self, point: MountPoint, container_id: str) -> MountPoint:
        record = self.volumes.create_anonymous() if point.anonymous else self.volumes.ensure(point.name)
        self.volumes.reference(record.name, container_id)
        return replace(point, name=record.name, source=str(self.volumes.path(record.name)))

    def restore(self, containers: list[Container]) -> None:
        """At daemon start: every container's volume references again, mounts of running ones."""
        for container in containers:
            for point in self._volumes_of(container):
                self.volumes.reference(point.name, container.id)
                if container.state.running:
                    self.volumes.mount(point.name, container.id)

    def activate(self, container: Container, rootfs: Path) -> None:
        """Before a start: sources ready, volumes mounted and copied up. Raises RuntimeFailure."""
        for point in points_of(container.mounts):
            try:
                if point.type == "bind" and point.create_source and not os.path.exists(point.source):
                    os.makedirs(point.source, 0o755, exist_ok=True)
                if point.type == "volume":
                    data = self.volumes.mount(point.name, container.id)
                    if point.copy:
                        _copy_image_content(rootfs, point.destination, data)
            except OSError as exc:
                raise RuntimeFailure(f"error while mounting volume '{point.source}': {exc}") from None

    def deactivate(self, container: Container) -> None:
        for point in self._volumes_of(container):
            self.volumes.unmount(point.name, container.id)

    def release(self, container: Container, remove_anonymous: bool) -> None:
        """At removal: drop the references; with `rm -v` or `--rm`, anonymous volumes go too."""
        for point in self._volumes_of(container):
            self.volumes.dereference(point.name, container.id)
            if remove_anonymous:
                self.volumes.remove_if_anonymous(point.name)

    def _volumes_of(self, container: Container) -> list[MountPoint]:
        return [p for p in points_of(container.mounts) if p.type == "volume"]

    @contextmanager
    def host_view(self, container: Container, rootfs: Path) -> Iterator[None]:
        """The binds and volumes of a stopped container mounted into its host-side rootfs for
        the while (as dockerd does for `cp`), each target resolved inside the rootfs."""
        done: list[str] = []
        root_fd = os.open(rootfs, _DIR)
        try:
            for point in sorted(points_of(container.mounts), key=lambda p: p.destination.count("/")):
                if point.type != "tmpfs" and os.path.exists(point.source):
                    done.append(_bind_into(root_fd, point))
            yield
        finally:
            for target in reversed(done):
                sc.umount2(target, sc.MNT_DETACH)
            os.close(root_fd)


def _bind_into(root_fd: int, point: MountPoint) -> str:
    """Bind `point` over its destination inside `root_fd`; return the host path of the mount."""
    directory = os.path.isdir(point.source)
    parent, _, base = point.destination.rpartition("/")
    parent_fd = open_in_root(root_fd, parent or "/")
    try:
        try:
            if directory:
                os.mkdir(base, 0o755, dir_fd=parent_fd)
            else:
                os.close(os.open(base, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW, 0o644, dir_fd=parent_fd))
        except FileExistsError:
            pass
        target_fd = sc.openat2(parent_fd, base, os.O_PATH | os.O_NOFOLLOW, IN_ROOT)
    finally:
        os.close(parent_fd)
    try:
        target = os.readlink(f"/proc/self/fd/{target_fd}")
        sc.mount(point.source, f"/proc/self/fd/{target_fd}", None, sc.MS_BIND | sc.MS_REC)
        if not point.rw:
            sc.mount(None, f"/proc/self/fd/{target_fd}", None, sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY)
    finally:
        os.close(target_fd)
    return target


def _copy_image_content(rootfs: Path, destination: str, data: Path) -> None:
    """Fill an empty volume with what the image has at `destination` (nothing if it has none)."""
    root_fd = os.open(rootfs, _DIR)
    try:
        try:
            source_fd = open_in_root(root_fd, destination)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                return
            raise
        try:
            volume_fd = os.open(data, _DIR)
            try:
                if is_empty(volume_fd):
                    copy_up(source_fd, volume_fd)
            finally:
                os.close(volume_fd)
        finally:
            os.close(source_fd)
    finally:
        os.close(root_fd)

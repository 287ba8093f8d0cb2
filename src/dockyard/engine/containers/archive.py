"""`docker cp`'s endpoints: HEAD, GET and PUT /containers/{id}/archive (moby daemon/archive.go).

Paths are resolved inside the container's root with openat2(RESOLVE_IN_ROOT): `..` and
symlinks, absolute or relative, never leave it, whatever a process inside plants or swaps
meanwhile; below the resolved directory, the tar is read and written through directory fds
opened without following links (archive/writer.py, archive/extract.py). The root is the
running container's own (/proc/<pid>/root, its mounts included); a stopped container's rootfs
is mounted with its binds and volumes for the while. The container's lock is held throughout,
as dockerd does, so it neither starts nor goes away under the copy.
"""

from __future__ import annotations

import errno
import os
import posixpath
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import BinaryIO

from dockyard.archive.extract import extract_at
from dockyard.archive.writer import TreeWriter, end_tar
from dockyard.chunks import produced
from dockyard.engine.containers.model import Container
from dockyard.engine.containers.mounting import ContainerMounts, open_in_root
from dockyard.errors import InvalidArgument, NotFound
from dockyard.runtime.rootpath import resolve_in_root
from dockyard.runtime.user import resolve_user

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_GO_MODES = (
    (stat.S_ISDIR, 1 << 31),
    (stat.S_ISLNK, 1 << 27),
    (stat.S_ISBLK, 1 << 26),
    (stat.S_ISFIFO, 1 << 25),
    (stat.S_ISSOCK, 1 << 24),
    (stat.S_ISCHR, (1 << 26) | (1 << 21)),
)


def go_file_mode(mode: int) -> int:
    """A st_mode as Go's os.FileMode, the `mode` of X-Docker-Container-Path-Stat."""
    value = mode & 0o777
    value |= next((bit for test, bit in _GO_MODES if test(mode)), 0)
    for flag, bit in ((stat.S_ISUID, 1 << 23), (stat.S_ISGID, 1 << 22), (stat.S_ISVTX, 1 << 20)):
        if mode & flag:
            value |= bit
    return value


def _rfc3339(ns: int) -> str:
    seconds, fraction = divmod(ns, 1_000_000_000)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{fraction:09d}".rstrip("0") if fraction else "") + "Z"


def entry_name(path: str) -> str:
    """The name a copy of `path` has in the tar and the stat: its last element, `.` for `dir/.`."""
    if path.endswith("/.") or path.strip("/") in ("", "."):
        return "."
    return posixpath.basename(path.rstrip("/"))


def _follows_last(path: str) -> bool:
    """`dir/`, `dir/.` and `/` name what the last link points to; anything else the link itself."""
    return path.endswith(("/", "/.")) or path.strip("/") in ("", ".")


class ContainerArchive:
    def __init__(self, containers, mounts: ContainerMounts) -> None:
        self.containers, self.mounts = containers, mounts

    def stat(self, ref: str, path: str) -> dict:
        """HEAD: the path's stat. Raises NotFound."""
        container = self.containers.get(ref)
        with self._root(container) as root:
            return self._stat(root, container, ref, path)

    def get(self, ref: str, path: str) -> tuple[dict, Iterator[bytes]]:
        """GET: (stat, the tar of the path). Raises NotFound."""
        container = self.containers.get(ref)
        found = self.stat(ref, path)

        def write(out: BinaryIO) -> None:
            with self._root(container) as root, _opened(root, path, ref, container) as (parent, base, fd):
                writer = TreeWriter(out)
                if fd is not None:
                    writer.opened(fd, entry_name(path))
                else:
                    writer.entry(parent, base, entry_name(path))
                end_tar(out)

        return found, produced(write, "archive")

    def put(self, ref: str, path: str, body: BinaryIO, no_overwrite_dir_non_dir: bool, copy_uid_gid: bool) -> None:
        """PUT: extract the tar `body` into the directory `path`. Raises NotFound, InvalidArgument."""
        container = self.containers.get(ref)
        with self._root(container) as root:
            try:
                dest = open_in_root(root, path or "/", _DIR)
            except OSError as exc:
                raise _not_found(exc, path, ref) from None
            try:
                owner = self._owner(root, container) if copy_uid_gid else None
                extract_at(body, dest, no_overwrite_dir_non_dir, owner)
            finally:
                os.close(dest)

    def _owner(self, root: int, container: Container) -> tuple[int, int] | None:
        user = container.config.get("User") or ""
        if not user:
            return None
        uid, gid, _ = resolve_user(f"/proc/self/fd/{root}", user)
        return uid, gid

    def _stat(self, root: int, container: Container, ref: str, path: str) -> dict:
        with _opened(root, path, ref, container) as (parent, base, fd):
            info = os.fstat(fd) if fd is not None else os.stat(base, dir_fd=parent, follow_symlinks=False)
        target = ""
        if stat.S_ISLNK(info.st_mode):
            host = f"/proc/self/fd/{root}"
            target = "/" + os.path.relpath(resolve_in_root(host, path), host).removeprefix(".")
        name = "/" if path.strip("/") == "" else entry_name(path)
        return {
            "name": name,
            "size": info.st_size,
            "mode": go_file_mode(info.st_mode),
            "mtime": _rfc3339(info.st_mtime_ns),
            "linkTarget": target.replace("//", "/"),
        }

    @contextmanager
    def _root(self, container: Container) -> Iterator[int]:
        """An fd of the container's root, for the while, under the container's lock."""
        with container.lock:
            if container.state.status in ("running", "paused") and container.state.pid:
                fd = os.open(f"/proc/{container.state.pid}/root", _DIR)
                try:
                    yield fd
                finally:
                    os.close(fd)
                return
            rootfs = self.containers.snapshots.mount(container.id)
            try:
                with self.mounts.host_view(container, rootfs):
                    fd = os.open(rootfs, _DIR)
                    try:
                        yield fd
                    finally:
                        os.close(fd)
            finally:
                self.containers.snapshots.unmount(container.id)


@contextmanager
def _opened(root: int, path: str, ref: str, container: Container) -> Iterator[tuple[int, str, int | None]]:
    """(parent fd, last name, None) for a path naming a link itself; (-1, "", fd) otherwise."""
    path = path or "/"
    try:
        if _follows_last(path):
            fd = open_in_root(root, path, _DIR)
            try:
                yield -1, "", fd
            finally:
                os.close(fd)
            return
        parent = open_in_root(root, posixpath.dirname(path.rstrip("/")) or "/", _DIR)
    except OSError as exc:
        raise _not_found(exc, path, ref) from None
    try:
        base = posixpath.basename(path.rstrip("/"))
        try:
            os.stat(base, dir_fd=parent, follow_symlinks=False)
        except OSError as exc:
            raise _not_found(exc, path, ref) from None
        yield parent, base, None
    finally:
        os.close(parent)


def _not_found(exc: OSError, path: str, ref: str) -> Exception:
    if exc.errno in (errno.ENOENT, errno.ELOOP):
        return NotFound(f"Could not find the file {path} in container {ref}")
    if exc.errno == errno.ENOTDIR:
        return InvalidArgument("extraction point is not a directory")
    return InvalidArgument(f"{path}: {exc.strerror}")

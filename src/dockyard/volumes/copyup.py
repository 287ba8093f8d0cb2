"""Copy-up: a new, empty volume mounted where the image has content is first filled with that
content, owners, modes, xattrs, mtimes, symlinks, hardlinks and device nodes included, and
takes the owner and mode of the directory it covers (moby `copyExistingContents`).

The source is read through directory fds opened with O_NOFOLLOW at every step, so a symlink
in the image is copied as a symlink and never followed.
"""

from __future__ import annotations

import errno
import os
import stat

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_WRITE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_GONE = (errno.ENOENT, errno.ELOOP, errno.ENOTDIR, errno.ENXIO)


def is_empty(dir_fd: int) -> bool:
    return not os.listdir(dir_fd)


def copy_up(source_fd: int, volume_fd: int) -> None:
    """Fill the directory `volume_fd` with the tree under `source_fd`, and give it the source's owner and mode."""
    _Copier(volume_fd).children(source_fd, volume_fd, "")
    _attributes(volume_fd, os.fstat(source_fd), source_fd)


class _Copier:
    def __init__(self, volume_fd: int) -> None:
        self.volume_fd = volume_fd
        self.links: dict[tuple[int, int], str] = {}  # inode -> its first path in the volume

    def children(self, source: int, target: int, prefix: str) -> None:
        for base in os.listdir(source):
            try:
                self.entry(source, target, base, prefix + base)
            except OSError as exc:
                if exc.errno not in _GONE:
                    raise

    def entry(self, source: int, target: int, base: str, path: str) -> None:
        st = os.stat(base, dir_fd=source, follow_symlinks=False)
        if stat.S_ISDIR(st.st_mode):
            self._directory(source, target, base, path)
        elif stat.S_ISREG(st.st_mode):
            self._file(source, target, base, path)
        elif stat.S_ISLNK(st.st_mode):
            os.symlink(os.readlink(base, dir_fd=source), base, dir_fd=target)
            os.chown(base, st.st_uid, st.st_gid, dir_fd=target, follow_symlinks=False)
            os.utime(base, ns=(st.st_atime_ns, st.st_mtime_ns), dir_fd=target, follow_symlinks=False)
        elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) or stat.S_ISFIFO(st.st_mode):
            os.mknod(base, st.st_mode, st.st_rdev, dir_fd=target)
            os.chown(base, st.st_uid, st.st_gid, dir_fd=target, follow_symlinks=False)
            os.chmod(base, stat.S_IMODE(st.st_mode), dir_fd=target)
            os.utime(base, ns=(st.st_atime_ns, st.st_mtime_ns), dir_fd=target)

    def _directory(self, source: int, target: int, base: str, path: str) -> None:
        source_dir = os.open(base, _DIR, dir_fd=source)
        try:
            os.mkdir(base, 0o700, dir_fd=target)
            target_dir = os.open(base, _DIR, dir_fd=target)
            try:
                self.children(source_dir, target_dir, path + "/")
                _attributes(target_dir, os.fstat(source_dir), source_dir)
            finally:
                os.close(target_dir)
        finally:
            os.close(source_dir)

    def _file(self, source: int, target: int, base: str, path: str) -> None:
        source_file = os.open(base, _READ, dir_fd=source)
        try:
            st = os.fstat(source_file)
            if not stat.S_ISREG(st.st_mode):
                return
            first = self.links.setdefault((st.st_dev, st.st_ino), path) if st.st_nlink > 1 else path
            if first != path:
                os.link(first, base, src_dir_fd=self.volume_fd, dst_dir_fd=target, follow_symlinks=False)
                return
            target_file = os.open(base, _WRITE, 0o600, dir_fd=target)
            try:
                _copy_data(source_file, target_file, st.st_size)
                _attributes(target_file, st, source_file)
            finally:
                os.close(target_file)
        finally:
            os.close(source_file)


def _copy_data(source: int, target: int, size: int) -> None:
    offset = 0
    while offset < size:
        sent = os.sendfile(target, source, offset, min(size - offset, 1 << 30))
        if not sent:
            break
        offset += sent


def _attributes(fd: int, st: os.stat_result, source_fd: int) -> None:
    """Owner, mode, xattrs and times of `st` (read from `source_fd`) onto `fd`."""
    os.fchown(fd, st.st_uid, st.st_gid)
    os.fchmod(fd, stat.S_IMODE(st.st_mode))
    try:
        for key in os.listxattr(source_fd):
            if not key.startswith("trusted.overlay."):
                os.setxattr(fd, key, os.getxattr(source_fd, key))
    except OSError as exc:
        if exc.errno not in (errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
    os.utime(fd, ns=(st.st_atime_ns, st.st_mtime_ns))

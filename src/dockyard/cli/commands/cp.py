"""`dockyard cp [-a] [-L] CONTAINER:SRC DEST|-` and `dockyard cp [-a] [-L] SRC|- CONTAINER:DEST`.

Copies go through GET/HEAD/PUT /containers/{id}/archive as tar streams. Like docker: a
source `dir/.` copies the directory's contents; a destination that does not exist takes the
source's place under the new name; `-` means a tar stream on stdin/stdout.
"""

from __future__ import annotations

import base64
import json
import os
import posixpath
import sys

from dockyard.cli.client import path_id
from dockyard.cli.flags import Parser, UsageError
from dockyard.errors import InvalidArgument, NotFound


def split_target(arg: str) -> tuple[str | None, str]:
    """'web:/etc/x' -> ('web', '/etc/x'); a local path (also './a:b', '/a:b') -> (None, path)."""
    if arg.startswith(("/", ".")) or ":" not in arg:
        return None, arg
    container, _, path = arg.partition(":")
    return container, path


def renamer(old: str, new: str, owner: tuple[int, int] | None):
    """A tarfile extraction filter: top entry renamed, then checked by the 'tar' rules (which
    resolve the final name on disk, so no entry lands outside through a link planted earlier),
    modes kept whole, then optionally re-owned."""
    import tarfile

    def moved(name: str) -> str:
        if old and new and old != new and (name == old or name.startswith(old + "/")):
            return new + name[len(old) :]
        return name

    def rename(member, dest):
        changes = {"name": moved(member.name)}
        if member.islnk():
            changes["linkname"] = moved(member.linkname)
        mode = member.mode  # docker cp keeps setuid/setgid/sticky and write bits; the filter would not
        member = tarfile.tar_filter(member.replace(**changes, deep=False), dest).replace(mode=mode, deep=False)
        if owner is not None:
            member = member.replace(uid=owner[0], gid=owner[1], uname="", gname="", deep=False)
        return member

    return rename


def copy_from(client, container: str, src: str, dest: str, archive: bool) -> None:
    """Container -> local (or stdout with '-')."""
    import tarfile

    response = client.request("GET", f"/containers/{path_id(container)}/archive", {"path": src})
    if dest == "-":
        from dockyard.cli.hijack import write_all

        for chunk in response.iter_raw():
            write_all(sys.stdout.fileno(), chunk)
        return
    stat = _path_stat(response.headers)
    src_base = stat.get("name") or posixpath.basename(src.rstrip("/")) or "/"
    if src.endswith("/."):
        os.makedirs(dest, exist_ok=True)
        target, new_name = dest, src_base
    elif os.path.isdir(dest):
        target, new_name = dest, src_base
    elif dest.endswith("/"):
        raise InvalidArgument(f'destination directory "{dest}" must exist')
    else:
        target, new_name = os.path.dirname(os.path.abspath(dest)), os.path.basename(dest)
    owner = None if archive else (os.getuid(), os.getgid())
    try:
        with tarfile.open(fileobj=_Body(response), mode="r|") as tar:
            tar.extractall(target, filter=renamer(src_base, new_name, owner))
    except tarfile.TarError as exc:
        raise InvalidArgument(f"error extracting the copy from {container}:{src}: {exc}") from None


def copy_to(client, src: str, container: str, dest: str, follow: bool) -> None:
    """Local (or a tar on stdin with '-') -> container."""
    if src == "-":
        client.upload(
            "PUT", f"/containers/{path_id(container)}/archive", {"path": dest}, sys.stdin.buffer, "application/x-tar"
        ).read()
        return
    if not os.path.lexists(src):
        raise NotFound(f"lstat {src}: no such file or directory")
    directory, name = _destination(client, container, dest, src)
    import tarfile
    import tempfile

    with tempfile.TemporaryFile() as spool:
        with tarfile.open(fileobj=spool, mode="w") as tar:
            tar.dereference = follow
            tar.add(src, arcname="." if src.endswith("/.") else name)
        length = spool.tell()
        spool.seek(0)
        client.upload(
            "PUT",
            f"/containers/{path_id(container)}/archive",
            {"path": directory, "noOverwriteDirNonDir": True},
            spool,
            "application/x-tar",
            length,
        ).read()


def _destination(client, container: str, dest: str, src: str) -> tuple[str, str]:
    """Where to extract in the container and under which name, from a HEAD stat of dest."""
    base = os.path.basename(os.path.normpath(src))
    try:
        response = client.request("HEAD", f"/containers/{path_id(container)}/archive", {"path": dest})
        stat = _path_stat(response.headers)
    except NotFound:
        stat = None
    if stat is not None and stat.get("mode", 0) & 0o20000000000:  # os.ModeDir in Go's FileMode
        return dest, base
    if src.endswith("/.") and stat is None:
        raise InvalidArgument(f'destination directory "{dest}" must exist')
    return posixpath.dirname(dest.rstrip("/")) or "/", posixpath.basename(dest.rstrip("/"))


def _path_stat(headers: dict[str, str]) -> dict:
    raw = headers.get("x-docker-container-path-stat")
    return json.loads(base64.b64decode(raw)) if raw else {}


class _Body:
    """A file-like read() over a streamed response, for tarfile's stream mode."""

    def __init__(self, response) -> None:
        self.chunks = response.iter_raw()
        self.buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self.buffer) < size:
            chunk = next(self.chunks, b"")
            if not chunk:
                break
            self.buffer += chunk
        data, self.buffer = (self.buffer, b"") if size < 0 else (self.buffer[:size], self.buffer[size:])
        return data


def main(ctx, argv: list[str]) -> int:
    parser = Parser(
        ctx.prog,
        "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n       dockyard cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
        "Copy files/folders between a container and the local filesystem",
    )
    parser.add_argument("-a", "--archive", action="store_true")
    parser.add_argument("-L", "--follow-link", action="store_true")
    parser.add_argument("-q", "--quiet", action="store_true")
    parser.add_argument("source")
    parser.add_argument("destination")
    ns = parser.parse(argv)
    src_container, src = split_target(ns.source)
    dest_container, dest = split_target(ns.destination)
    if (src_container is None) == (dest_container is None):
        raise UsageError(
            "must specify at least one container source"
            if src_container is None
            else "copying between containers is not supported",
            exit_code=1,
        )
    if src_container is not None:
        copy_from(ctx.client, src_container, src, dest, ns.archive)
    else:
        copy_to(ctx.client, src, dest_container, dest, ns.follow_link)
    return 0

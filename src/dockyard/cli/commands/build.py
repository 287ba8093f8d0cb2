"""`dockyard build [-t NAME] [-f FILE] [--build-arg K=V] [--no-cache] [-q] ... PATH|-`.

The context directory is sent as a tar (minus .dockerignore matches) to POST /build, the
legacy builder protocol; its JSON stream is printed as it arrives.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from dockyard.archive.writer import TreeWriter, end_tar, write_listed
from dockyard.build import dockerignore
from dockyard.cli.flags import Parser, UsageError, boolean, multi
from dockyard.cli.progress import display_stream
from dockyard.cli.runopts import parse_extra_host, parse_labels
from dockyard.cli.terminal import is_tty
from dockyard.units import ram_in_bytes


def build_parser(prog: str) -> Parser:
    parser = Parser(prog, "[OPTIONS] PATH | -", "Build an image from a Dockerfile")
    multi(parser, "-t", "--tag", help="Name and optionally a tag (format: name:tag)")
    parser.add_argument("-f", "--file", help="Name of the Dockerfile (default: PATH/Dockerfile)")
    multi(parser, "--build-arg", help="Set build-time variables")
    multi(parser, "--label", help="Set metadata for an image")
    multi(parser, "--add-host", help="Add a custom host-to-IP mapping (host:ip)")
    boolean(parser, "--no-cache", help="Do not use cache when building the image")
    boolean(parser, "--pull", help="Always attempt to pull a newer version of the image")
    boolean(parser, "-q", "--quiet", help="Suppress the build output and print image ID on success")
    boolean(parser, "--rm", default=True, help="Remove intermediate containers after a successful build")
    boolean(parser, "--force-rm", help="Always remove intermediate containers")
    parser.add_argument("--target", help="Set the target build stage to build")
    parser.add_argument("--platform", help="Set platform if server is multi-platform capable")
    parser.add_argument("--network", help="Set the networking mode for the RUN instructions during build")
    parser.add_argument("--iidfile", help="Write the image ID to the file")
    parser.add_argument(
        "--source-date-epoch",
        help="Timestamp (seconds) for reproducible layers and config (default: $SOURCE_DATE_EPOCH)",
    )
    parser.add_argument("--shm-size", help="Size of /dev/shm")
    parser.add_argument("-m", "--memory", help="Memory limit")
    parser.add_argument("context")
    return parser


def build_query(ns, dockerfile: str) -> dict:
    """The POST /build query docker sends for these flags."""
    build_args = {}
    for item in ns.build_arg:
        key, sep, value = item.partition("=")
        build_args[key] = value if sep else os.environ.get(key)
    epoch = ns.source_date_epoch or os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        if not epoch.isdigit():
            raise UsageError(f'invalid value "{epoch}" for --source-date-epoch: expected seconds', exit_code=1)
        build_args["SOURCE_DATE_EPOCH"] = epoch
    return {
        "t": ns.tag or None,
        "dockerfile": dockerfile,
        "buildargs": build_args or None,
        "labels": parse_labels(ns.label) or None,
        "nocache": ns.no_cache or None,
        "pull": ns.pull or None,
        "q": ns.quiet or None,
        "rm": ns.rm,
        "forcerm": ns.force_rm or None,
        "target": ns.target,
        "platform": ns.platform,
        "networkmode": ns.network,
        "extrahosts": ",".join(parse_extra_host(h) for h in ns.add_host) or None,
        "shmsize": ram_in_bytes(ns.shm_size) if ns.shm_size else None,
        "memory": ram_in_bytes(ns.memory) if ns.memory else None,
    }


def context_members(root: str, patterns: list[dockerignore.Pattern]):
    """Yield context-relative paths to send, in walk order, honouring .dockerignore."""
    descend_excluded = any(p.exclusion for p in patterns)
    for directory, dirs, files in os.walk(root):
        relative_dir = os.path.relpath(directory, root)
        prefix = "" if relative_dir == "." else relative_dir + "/"
        kept_dirs = []
        for name in sorted(dirs):
            path = prefix + name
            if not dockerignore.excluded(path, patterns):
                yield path
                kept_dirs.append(name)
            elif descend_excluded:
                kept_dirs.append(name)
        dirs[:] = kept_dirs
        for name in sorted(files):
            if not dockerignore.excluded(prefix + name, patterns):
                yield prefix + name


def dockerfile_in_context(root: str, dockerfile: str | None) -> tuple[str, str | None]:
    """The Dockerfile's name inside the context tar, and its host path when it lies outside
    the context (sent under a name of its own, as the docker CLI does)."""
    if dockerfile is None:
        return "Dockerfile", None
    full = os.path.abspath(dockerfile)
    inside = os.path.relpath(full, os.path.abspath(root))
    if inside.startswith(".."):
        return f".dockerfile.{os.getpid()}", full
    return inside, None


def write_context(root: str, name: str, extra: str | None, out) -> None:
    """Tar the context into out: what .dockerignore keeps, and an outside Dockerfile as `name`."""
    ignore_path = os.path.join(root, ".dockerignore")
    text = ""
    if os.path.exists(ignore_path):
        with open(ignore_path, encoding="utf-8") as handle:
            text = handle.read()
    patterns = dockerignore.client_patterns(text, name)
    write_listed(Path(root), context_members(root, patterns), out)
    if extra is not None:
        fd = os.open(extra, os.O_RDONLY | os.O_CLOEXEC)
        try:
            TreeWriter(out).opened(fd, name)
        finally:
            os.close(fd)
    end_tar(out)


class ContextStream:
    """The context tar as a readable stream, written by a thread into a pipe while the upload
    reads it, so the daemon receives and hashes the context as it is walked. A failure of the
    walk is raised by the read that meets the end, before the upload's last chunk."""

    def __init__(self, root: str, name: str, extra: str | None) -> None:
        read_fd, write_fd = os.pipe()
        self._reader = open(read_fd, "rb")
        self._error: BaseException | None = None
        writer = open(write_fd, "wb", buffering=1 << 16)
        self._thread = threading.Thread(target=self._write, args=(writer, root, name, extra), daemon=True)
        self._thread.start()

    def _write(self, out, root: str, name: str, extra: str | None) -> None:
        try:
            with out:
                write_context(root, name, extra, out)
        except BaseException as exc:  # handed to the reader
            self._error = exc

    def read(self, size: int) -> bytes:
        data = self._reader.read(size)
        if not data:
            self._thread.join()
            self._reader.close()
            if self._error is not None:
                raise self._error
        return data


def main(ctx, argv: list[str]) -> int:
    ns = build_parser(ctx.prog).parse(argv)
    if ns.context == "-":
        dockerfile = ns.file or "Dockerfile"
        response = ctx.client.upload(
            "POST", "/build", build_query(ns, dockerfile), sys.stdin.buffer, "application/x-tar", None
        )
    elif not os.path.isdir(ns.context):
        raise UsageError(f'unable to prepare context: path "{ns.context}" not found', exit_code=1)
    else:
        dockerfile, extra = dockerfile_in_context(ns.context, ns.file)
        source = ContextStream(ns.context, dockerfile, extra)
        response = ctx.client.upload("POST", "/build", build_query(ns, dockerfile), source, "application/x-tar", None)
    messages = display_stream(response, sys.stdout, is_tty(sys.stdout), quiet=ns.quiet)
    image_id = next(
        (m["aux"]["ID"] for m in reversed(messages) if isinstance(m.get("aux"), dict) and "ID" in m["aux"]), ""
    )
    if ns.quiet and not image_id:  # `q=1` answers with the ID alone, as a stream line
        image_id = next((m["stream"].strip() for m in messages if str(m.get("stream", "")).startswith("sha256:")), "")
    if ns.quiet and image_id:
        sys.stdout.write(image_id + "\n")
    if ns.iidfile and image_id:
        with open(ns.iidfile, "w", encoding="utf-8") as handle:
            handle.write(image_id)
    return 0

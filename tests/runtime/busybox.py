"""Test helpers for the runtime: a busybox rootfs, a spec for it, and running a task."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

from dockyard.multiplex import STDERR, FrameDecoder
from dockyard.runtime.client import ShimRuntime
from dockyard.runtime.runtime import IOConfig
from dockyard.runtime.spec import default_spec, process_spec

BUSYBOX = "/bin/busybox"
APPLETS = (
    "sh",
    "echo",
    "cat",
    "true",
    "false",
    "sleep",
    "id",
    "hostname",
    "ls",
    "ps",
    "mount",
    "tty",
    "env",
    "pwd",
    "stty",
    "kill",
    "trap",
    "test",
    "grep",
    "head",
    "wc",
    "touch",
    "dd",
    "mknod",
    "cut",
    "mkdir",
)


def build_rootfs(root: Path) -> Path:
    """A tiny rootfs: busybox, its applets, /etc/passwd with root, nobody and app (1000)."""
    for d in ("bin", "etc", "tmp", "proc", "sys", "dev", "root", "home/app"):
        (root / d).mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    for applet in APPLETS:
        os.symlink("busybox", root / "bin" / applet)
    (root / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
        "app:x:1000:1000:app:/home/app:/bin/sh\n"
    )
    (root / "etc" / "group").write_text("root:x:0:\ntty:x:5:\nstaff:x:50:app\napp:x:1000:\nnogroup:x:65534:\n")
    (root / "etc" / "hostname").write_text("")
    (root / "notexec").write_text("#!/bin/sh\necho no\n")
    os.chmod(root / "notexec", 0o644)
    (root / "tmp").chmod(0o1777)
    return root


def make_spec(rootfs: Path, args: list[str], **process_options) -> dict:
    """A Docker-like spec running `args` in `rootfs` with a fresh set of namespaces."""
    env = process_options.pop("env", ["PATH=/bin:/usr/bin", "HOME=/root"])
    hostname = process_options.pop("hostname", "box")
    process = process_spec(args, env=env, **process_options)
    return default_spec(process, root=str(rootfs), hostname=hostname)


def collect(sock, tty: bool = False) -> tuple[bytes, bytes]:
    """Read an attach stream to EOF: (stdout, stderr), or (raw, b"") with a TTY."""
    decoder, out, err = FrameDecoder(), b"", b""
    with sock:
        while chunk := sock.recv(65536):
            if tty:
                out += chunk
                continue
            for stream, payload in decoder.feed(chunk):
                if stream == STDERR:
                    err += payload
                else:
                    out += payload
    return out, err


def run_task(rt: ShimRuntime, state_dir: Path, spec: dict, io=None, stdin: bytes | None = None):
    """create, attach, start, feed stdin, collect output, wait: (exit code, stdout, stderr)."""
    io = io or IOConfig(open_stdin=stdin is not None, stdin_once=stdin is not None)
    rt.create(state_dir, spec, io)
    sock = rt.attach(state_dir, stdin is not None, True, True)
    rt.start(state_dir)
    if stdin is not None:
        sock.sendall(stdin)
        sock.shutdown(socket.SHUT_WR)
    out, err = collect(sock, io.tty)
    state = rt.wait(state_dir, timeout=20)
    assert state.status == "stopped"
    return state.exit_code, out, err

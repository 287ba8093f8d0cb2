"""What a FakeRuntime process does: its `Program`, and Go's exec lookup inside a rootfs (pure)."""

from __future__ import annotations

import os
import signal as signals
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Program:
    """How a fake process behaves once started."""

    exit_code: int | None = None  # exit at once with this code; None: run until ended
    stdout: bytes = b""  # written as soon as it starts
    stderr: bytes = b""
    echo_stdin: bool = False  # copy stdin to stdout; exit 0 at the end of stdin
    handles: frozenset[int] = frozenset()  # signals that end it with 128+signal (SIGKILL always does)


SERVICE_SIGNALS = frozenset({signals.SIGTERM, signals.SIGINT})


def default_programs() -> dict[str, Callable[[list[str]], Program]]:
    return {
        "true": lambda args: Program(exit_code=0),
        "false": lambda args: Program(exit_code=1),
        "echo": lambda args: Program(exit_code=0, stdout=(" ".join(args[1:]) + "\n").encode()),
        "cat": lambda args: Program(echo_stdin=True),
        "sleep": lambda args: Program(),
    }


def exec_error(args: list[str], env: list[str], rootfs: Path | None, binds: dict) -> tuple[str, int] | None:
    """Go's exec.LookPath inside the rootfs, as the real init reports it: (message, exit code)."""
    if rootfs is None:
        return None
    name = args[0]
    path = next(
        (e[5:] for e in env if e.startswith("PATH=")),
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    )
    candidates = [name] if "/" in name else [os.path.join(d or ".", name) for d in path.split(":")]
    for candidate in candidates:
        try:
            st = os.stat(binds.get(candidate) or rootfs / candidate.lstrip("/"))
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode) and st.st_mode & 0o111:
            return None
        if "/" in name:
            return f'exec: "{name}": permission denied', 126
    if "/" in name:
        return f'exec: "{name}": stat {name}: no such file or directory', 127
    return f'exec: "{name}": executable file not found in $PATH', 127

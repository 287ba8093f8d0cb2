"""Fixtures: a scripted daemon on a temp unix socket, and the dockyard CLI run as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.recorder import Recorder

SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.fixture
def daemon(tmp_path):
    recorder = Recorder(str(tmp_path / "d.sock")).start()
    yield recorder
    recorder.stop()


def run_cli(
    args: list[str], host: str | None = None, stdin: bytes = b"", env: dict | None = None, timeout: float = 20
) -> subprocess.CompletedProcess:
    """Run `dockyard ARGS` in a fresh interpreter (as the console script does)."""
    environ = {**os.environ, "PYTHONPATH": SRC}
    environ.pop("DOCKYARD_HOST", None)
    environ.update(env or {})
    prefix = ["-H", f"unix://{host}"] if host else []
    return subprocess.run(
        [sys.executable, "-m", "dockyard", *prefix, *args],
        input=stdin,
        capture_output=True,
        env=environ,
        timeout=timeout,
    )


@pytest.fixture
def cli(daemon):
    """Run the CLI against the scripted daemon."""

    def call(*args: str, stdin: bytes = b"", env: dict | None = None):
        return run_cli(list(args), daemon.path, stdin, env)

    return call

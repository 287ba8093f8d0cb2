"""A real ApiServer on a temporary unix socket, serving the real engine services over the
in-memory runtime and snapshotter (tests/engine/harness.py): everything but the kernel is real."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard.api import ApiServer, Backends
from tests.engine.harness import Engine, build_engine


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    built = build_engine(tmp_path)
    yield built
    built.close()


@pytest.fixture
def backends(engine: Engine) -> Backends:
    return Backends(
        containers=engine.containers,
        execs=engine.execs,
        images=engine.image_backend,
        system=engine.system,
        volumes=engine.volumes,
    )


@pytest.fixture
def socket_path() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="dy-api-", dir="/tmp"))
    yield directory / "api.sock"
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def server(backends: Backends, socket_path: Path) -> Iterator[ApiServer]:
    api = ApiServer(backends, socket_path)
    thread = threading.Thread(target=api.serve_forever, daemon=True)
    thread.start()
    yield api
    api.shutdown()
    thread.join(5)

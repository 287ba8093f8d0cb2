"""A real ApiServer on a temporary unix socket, serving the in-memory engine of api_fakes.py.

The in-memory engine is a stand-in because the real engine is being written at the same
time as this package; the socket, the HTTP server and the clients are real.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard.api import ApiServer, Backends

from .api_fakes import FakeEngine


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def socket_path() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="dy-api-", dir="/tmp"))
    yield directory / "api.sock"
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def server(engine: FakeEngine, socket_path: Path) -> Iterator[ApiServer]:
    api = ApiServer(
        Backends(
            containers=engine.containers,
            execs=engine.containers,
            images=engine.images,
            system=engine.system,
            networks=engine.networks,
            volumes=engine.volumes,
        ),
        socket_path,
    )
    thread = threading.Thread(target=api.serve_forever, daemon=True)
    thread.start()
    yield api
    api.shutdown()
    thread.join(5)

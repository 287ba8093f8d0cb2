"""Engine services over the in-memory fakes: no root, no processes, no mounts."""

from __future__ import annotations

import pytest

from tests.engine.harness import build_engine


@pytest.fixture
def engine(tmp_path):
    built = build_engine(tmp_path)
    yield built
    built.close()

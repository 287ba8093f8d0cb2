"""Fixtures for the registry tests: a running registry on a fresh storage directory."""

from __future__ import annotations

import pytest

from tests.registry.registry_support import RunningRegistry


@pytest.fixture
def registry(tmp_path):
    """dockyard's registry with default config (anonymous read-write)."""
    running = RunningRegistry(tmp_path / "storage")
    yield running
    running.close()


@pytest.fixture
def client(registry):
    c = registry.client()
    yield c
    c.close()

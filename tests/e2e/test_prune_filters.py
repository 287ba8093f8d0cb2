"""Prune and list filters end to end through the docker CLI: `until` keeps what is younger,
`label!` keeps what carries the label, and an unknown filter is dockerd's 400."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.root


def test_container_prune_until_keeps_young_containers(daemon):
    name = f"young-{uuid.uuid4().hex[:8]}"
    daemon.cli("create", "--name", name, "busybox", "true")
    try:
        result = daemon.cli("container", "prune", "-f", "--filter", "until=24h")
        assert name not in result.stdout
        assert daemon.inspect(name)["Name"] == f"/{name}"
    finally:
        daemon.cli("rm", "-f", name, check=False)


def test_container_prune_label_not_keeps_labelled(daemon):
    keep, drop = f"keep-{uuid.uuid4().hex[:8]}", f"drop-{uuid.uuid4().hex[:8]}"
    daemon.cli("create", "--name", keep, "--label", "keep=1", "busybox", "true")
    daemon.cli("create", "--name", drop, "busybox", "true")
    try:
        daemon.cli("container", "prune", "-f", "--filter", "label!=keep")
        assert daemon.inspect(keep)["Name"] == f"/{keep}"
        assert daemon.cli("inspect", drop, check=False).returncode != 0
    finally:
        daemon.cli("rm", "-f", keep, drop, check=False)


@pytest.mark.parametrize("args", [("ps", "--filter", "bogus=1"), ("container", "prune", "-f", "--filter", "bogus=1")])
def test_unknown_filters_are_400_with_dockerds_words(daemon, args):
    result = daemon.cli(*args, check=False)
    assert result.returncode != 0
    assert "Invalid filter 'bogus'" in result.stderr

"""dockyard and the reference dockerd side by side on this host: the same 400s for bad
limits, the same create Warnings, and `info`'s cgroup flags telling the same truth."""

from __future__ import annotations

import json

import pytest

from tests.e2e.rawhttp import request

pytestmark = pytest.mark.root
MB = 1 << 20

BAD = [
    {"Memory": 1000},
    {"MemorySwap": 100 * MB},
    {"Memory": 100 * MB, "MemorySwap": 50 * MB},
    {"MemoryReservation": 1000},
    {"Memory": 10 * MB, "MemoryReservation": 20 * MB},
    {"MemorySwappiness": 101},
    {"OomScoreAdj": 1001},
    {"NanoCpus": 5 * 10**9},
    {"NanoCpus": 5 * 10**8, "CpuQuota": 50000},
    {"CpuPeriod": 100},
    {"CpuQuota": 100},
    {"CpusetCpus": "abc"},
    {"CpusetCpus": "7"},
    {"CpusetMems": "3"},
]
WARNED = [{"OomKillDisable": True}, {"BlkioWeight": 500}, {"CpuPercent": 50}, {"Memory": 64 * MB}]


def _create(host: str, host_config: dict) -> tuple[int, dict]:
    body = {"Image": "busybox", "Cmd": ["true"], "HostConfig": host_config}
    status, _, answer = request(host, "POST", "/v1.41/containers/create", body)
    return status, json.loads(answer)


@pytest.fixture(scope="module")
def both(daemon, reference, busybox_tar):
    reference.docker("import", str(busybox_tar), "busybox:latest")
    return daemon, reference


@pytest.mark.parametrize("host_config", BAD, ids=lambda h: ",".join(h))
def test_bad_limits_get_dockerds_400(both, host_config):
    daemon, reference = both
    ours, theirs = _create(daemon.host, host_config), _create(reference.host, host_config)
    assert ours == theirs and ours[0] == 400


@pytest.mark.parametrize("host_config", WARNED, ids=lambda h: ",".join(h))
def test_the_same_warnings(both, host_config):
    daemon, reference = both
    (status, ours), (_, theirs) = _create(daemon.host, host_config), _create(reference.host, host_config)
    assert status == 201 and ours["Warnings"] == theirs["Warnings"]
    daemon.cli("rm", ours["Id"])
    reference.docker("rm", theirs["Id"])


def test_info_tells_the_same_truth_about_cgroups(both):
    daemon, reference = both
    keys = ("MemoryLimit", "SwapLimit", "CpuCfsPeriod", "CpuCfsQuota", "CPUShares", "CPUSet", "PidsLimit")
    keys += ("OomKillDisable", "CgroupVersion", "NCPU")
    ours = json.loads(request(daemon.host, "GET", "/info")[2])
    theirs = json.loads(request(reference.host, "GET", "/info")[2])
    assert {k: ours[k] for k in keys} == {k: theirs[k] for k in keys}
    # dockerd 20.10 leaves these warnings to its CLI; current dockerd sends them, as dockyard does
    assert ours["Warnings"] == ["WARNING: No blkio weight support", "WARNING: No blkio weight_device support"]

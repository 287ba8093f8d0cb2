"""`GET /networks` filters (engine/networks/filters.py): a table over network records, and
dockerd's 400s for bad type and dangling values."""

from __future__ import annotations

import pytest

from dockyard.engine.networks.filters import check_filters, matches
from dockyard.errors import InvalidArgument
from dockyard.network.store import NetworkRecord

BRIDGE = NetworkRecord(id="a1" + "0" * 62, name="bridge", driver="bridge", created="")
FRONT = NetworkRecord(id="9c1d" + "0" * 60, name="front-net", driver="bridge", created="", labels={"tier": "web"})
IDLE = NetworkRecord(id="77" + "0" * 62, name="idle", driver="bridge", created="")
USED = {BRIDGE.id, FRONT.id}


@pytest.mark.parametrize(
    ("filters", "shown"),
    [
        ({}, {"bridge", "front-net", "idle"}),
        ({"name": ["^front"]}, {"front-net"}),
        ({"name": ["net$", "idle"]}, {"front-net", "idle"}),
        ({"name": ["(bad"]}, set()),
        ({"id": ["^9c1"]}, {"front-net"}),
        ({"driver": ["bridge"]}, {"bridge", "front-net", "idle"}),
        ({"driver": ["bri"]}, set()),
        ({"label": ["tier=web"]}, {"front-net"}),
        ({"label": ["tier=db"]}, set()),
        ({"scope": ["local"]}, {"bridge", "front-net", "idle"}),
        ({"scope": ["swarm"]}, set()),
        ({"type": ["builtin"]}, {"bridge"}),
        ({"type": ["custom"]}, {"front-net", "idle"}),
        ({"dangling": ["true"]}, {"idle"}),
        ({"dangling": ["0"]}, {"bridge", "front-net"}),
    ],
)
def test_network_filter_table(filters, shown):
    check_filters(filters)
    assert {n.name for n in (BRIDGE, FRONT, IDLE) if matches(n, filters, n.id in USED)} == shown


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"type": ["x"]}, "invalid filter: 'type'='x'"),
        ({"dangling": ["maybe"]}, "invalid value for filter 'dangling', must be \"true\""),
    ],
)
def test_bad_values_are_dockerds_400s(filters, message):
    with pytest.raises(InvalidArgument, match=message):
        check_filters(filters)

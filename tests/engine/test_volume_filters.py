"""`GET /volumes` and volume prune filters (engine/volumes/rules.py) through the volume service
over a real data root: one table per endpoint, and dockerd's 400s for bad values."""

from __future__ import annotations

import pytest

from dockyard.errors import InvalidArgument


@pytest.fixture
def volumes(engine):
    service = engine.volumes
    service.create({"Name": "web-data", "Labels": {"tier": "web", "keep": "1"}})
    service.create({"Name": "db-data", "Labels": {"tier": "db"}})
    service.create({"Name": "scratch"})
    service.reference("db-data", "c" * 64)
    return service


@pytest.mark.parametrize(
    ("filters", "shown"),
    [
        ({}, {"web-data", "db-data", "scratch"}),
        ({"name": ["data"]}, {"web-data", "db-data"}),
        ({"name": ["^db"]}, {"db-data"}),
        ({"name": ["(bad"]}, set()),
        ({"driver": ["local"]}, {"web-data", "db-data", "scratch"}),
        ({"driver": ["loc"]}, set()),
        ({"label": ["tier"]}, {"web-data", "db-data"}),
        ({"label": ["tier=web", "keep"]}, {"web-data"}),
        ({"dangling": ["true"]}, {"web-data", "scratch"}),
        ({"dangling": ["0"]}, {"db-data"}),
    ],
)
def test_volume_list_table(volumes, filters, shown):
    assert {v["Name"] for v in volumes.list(filters)["Volumes"]} == shown


@pytest.mark.parametrize(
    ("filters", "pruned"),
    [
        ({}, set()),  # named volumes only with all=true
        ({"all": ["true"]}, {"web-data", "scratch"}),  # never one in use
        ({"all": ["1"], "label": ["tier"]}, {"web-data"}),
        ({"all": ["true"], "label!": ["tier"]}, {"scratch"}),
        ({"all": ["true"], "label!": ["tier=web", "keep=2"]}, {"web-data", "scratch"}),  # kept only with all of them
        ({"all": ["true"], "label!": ["tier=web", "keep=1"]}, {"scratch"}),
    ],
)
def test_volume_prune_table(volumes, filters, pruned):
    assert set(volumes.prune(filters)["VolumesDeleted"] or []) == pruned


@pytest.mark.parametrize(
    ("call", "filters", "message"),
    [
        ("list", {"dangling": ["maybe"]}, r"Invalid filter 'dangling=\[maybe\]'"),
        ("prune", {"all": ["maybe"]}, r"Invalid filter 'all=\[maybe\]'"),
        ("prune", {"until": ["1h"]}, "Invalid filter 'until'"),
    ],
)
def test_bad_values_are_dockerds_400s(volumes, call, filters, message):
    with pytest.raises(InvalidArgument, match=message):
        getattr(volumes, call)(filters)
    assert len(volumes.list({})["Volumes"]) == 3


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"Name": "a/b"}, '^create a/b: "a/b" includes invalid characters for a local volume name'),
        ({"Name": "vol", "DriverOpts": {"bogus": "1"}}, '^create vol: invalid option: "bogus"'),
    ],
)
def test_create_refusals_name_the_volume_as_dockerd(engine, config, message):
    with pytest.raises(InvalidArgument, match=message):
        engine.volumes.create(config)


def test_every_create_of_a_volume_is_an_event_as_moby_logs_its_get_or_create(engine):
    import time

    start = time.time()
    engine.volumes.create({"Name": "twice"})
    engine.volumes.create({"Name": "twice"})  # exists: the same volume, one more event
    engine.volumes.ensure("twice")  # a container naming it
    events = list(engine.events.subscribe(start, time.time(), {"type": ["volume"]}))
    assert [(e["Action"], e["Actor"]["ID"]) for e in events] == [("create", "twice")] * 3

"""The next container's ID, reserved at each create and handed to the runtime ahead of it
(Runtime.prepare: decision 0084), over the fakes."""

from __future__ import annotations

import pytest

from dockyard.errors import Conflict

BUSYBOX = {"Image": "busybox", "Cmd": ["true"]}


def _reserved(engine) -> str:
    """The one container ID whose state dir the runtime was asked to prepare and no create took."""
    (state_dir,) = engine.runtime.prepared
    return state_dir.name


def test_a_create_reserves_the_next_id_and_the_next_create_takes_it(engine):
    first = engine.containers.create("first", BUSYBOX, {}, None)["Id"]
    reserved = _reserved(engine)
    assert reserved != first and engine.state_dir("first").parent == engine.root.containers
    second = engine.containers.create("second", BUSYBOX, {}, None)["Id"]
    assert second == reserved
    engine.containers.start("second")  # the runtime's create takes what was made
    assert _reserved(engine) not in (first, second)


@pytest.mark.parametrize("host", [{"NetworkMode": "host"}, {"Memory": 64 << 20}, {"Privileged": True}])
def test_a_container_that_cannot_start_on_it_takes_a_fresh_id(engine, host):
    engine.containers.create("first", BUSYBOX, {}, None)
    reserved = _reserved(engine)
    other = engine.containers.create("other", BUSYBOX, host, None)["Id"]
    assert other != reserved and _reserved(engine) == reserved


def test_a_create_that_fails_gives_the_reserved_id_back(engine):
    engine.containers.create("taken", BUSYBOX, {}, None)
    reserved = _reserved(engine)
    with pytest.raises(Conflict, match="already in use"):
        engine.containers.create("taken", BUSYBOX, {}, None)
    assert engine.containers.create("next", BUSYBOX, {}, None)["Id"] == reserved


def test_removing_a_container_never_started_discards_what_was_made_for_it(engine):
    engine.containers.create("first", BUSYBOX, {}, None)
    second = engine.containers.create("second", BUSYBOX, {}, None)["Id"]
    assert engine.state_dir("second") in engine.runtime.prepared  # held until its start
    engine.containers.remove("second", force=False, volumes=False)
    assert all(state_dir.name != second for state_dir in engine.runtime.prepared)

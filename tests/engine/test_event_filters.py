"""`GET /events` filters (engine/eventfilters.py): one table over events of each type, and the
service refusing an unknown key before the stream starts."""

from __future__ import annotations

import pytest

from dockyard.engine.eventfilters import matches
from dockyard.errors import InvalidArgument


def _event(kind: str, action: str, actor: str, **attrs: str) -> dict:
    return {"Type": kind, "Action": action, "Actor": {"ID": actor, "Attributes": attrs}, "scope": "local"}


EVENTS = {
    "start": _event("container", "start", "c0ffee" + "0" * 58, name="web", image="busybox:latest", tier="front"),
    "health": _event("container", "health_status: healthy", "c0ffee" + "0" * 58, name="web", image="busybox"),
    "pull": _event("image", "pull", "busybox:latest", name="busybox:latest"),
    "tag": _event("image", "tag", "sha256:" + "b" * 64, name="me/app:1"),
    "connect": _event("network", "connect", "9c1d" + "0" * 60, name="front-net", container="c0ffee", type="bridge"),
    "mount": _event("volume", "mount", "data", driver="local", container="c0ffee"),
    "reload": _event("daemon", "reload", "DAEMONID", name="host1"),
    "plugin": _event("plugin", "enable", "p1", name="vieux/sshfs"),
}


@pytest.mark.parametrize(
    ("filters", "chosen"),
    [
        ({}, set(EVENTS)),
        ({"type": ["network", "volume"]}, {"connect", "mount"}),
        ({"type": ["bogus"]}, set()),
        ({"event": ["start", "mount"]}, {"start", "mount"}),
        ({"event": ["health_status"]}, {"health"}),  # fuzzy for health_status, exec_create, exec_start
        ({"event": ["health"]}, set()),
        ({"container": ["web"]}, {"start", "health"}),
        ({"container": ["c0ff"]}, {"start", "health"}),  # an ID prefix; keys name no type, as moby
        ({"container": ["we"]}, {"start", "health"}),  # a name prefix, as moby's FuzzyMatch
        ({"image": ["busybox"]}, {"start", "health", "pull"}),  # with or without its tag
        ({"image": ["busybox:latest"]}, {"start", "pull"}),
        ({"image": ["me/app"]}, {"tag"}),
        ({"network": ["front-net"]}, {"connect"}),
        ({"network": ["9c1d"]}, {"connect"}),
        ({"volume": ["data"]}, {"mount"}),
        ({"daemon": ["host1"]}, {"reload"}),
        ({"plugin": ["vieux/sshfs"]}, {"plugin"}),
        ({"node": ["n1"]}, set()),
        ({"service": ["zz"]}, set()),
        ({"secret": ["zz"]}, set()),
        ({"config": ["zz"]}, set()),
        ({"config": ["c0ffee"]}, {"start", "health"}),  # moby quirk: any actor of any type
        ({"scope": ["local"]}, set(EVENTS)),
        ({"scope": ["swarm"]}, set()),
        ({"label": ["tier=front"]}, {"start"}),
        ({"label": ["driver=local"]}, {"mount"}),
        ({"type": ["container"], "event": ["start"], "label": ["tier"]}, {"start"}),
    ],
)
def test_event_filter_table(filters, chosen):
    assert {name for name, event in EVENTS.items() if matches(event, filters)} == chosen


def test_unknown_event_filter_is_a_400_before_streaming(engine):
    with pytest.raises(InvalidArgument, match="Invalid filter 'bogus'"):
        engine.system.events(None, None, {"bogus": ["1"]})


def test_service_streams_only_matching_events(engine):
    import time

    start = time.time()
    engine.run("true", name="first")
    engine.run("true", name="second")
    seen = list(engine.system.events(start, time.time() + 0.2, {"container": ["second"], "event": ["start"]}))
    assert [(e["Action"], e["Actor"]["Attributes"]["name"]) for e in seen] == [("start", "second")]

"""`GET /containers/json` filters (engine/containers/filters.py): one table of records and
filters, dockerd's 400s for bad values, and before/since/limit through the service over the fakes."""

from __future__ import annotations

import pytest

from dockyard.engine.containers.filters import compile_filters, matches, port_set, ports_match
from dockyard.engine.containers.model import Container, State
from dockyard.errors import InvalidArgument, NotFound
from tests.polling import eventually

WEB = Container(
    id="3f2a" + "0" * 60,
    name="web",
    image="busybox",
    image_id="sha256:" + "b" * 64,
    created="2026-01-01T00:00:02Z",
    config={"Labels": {"tier": "front"}},
    host_config={},
    state=State(status="running", health={"Status": "healthy"}),
    network_settings={"Networks": {"backend": {"NetworkID": "9c1d" + "0" * 60}}},
    mounts=[
        {"type": "volume", "name": "data", "source": "/var/lib/dockyard/volumes/data/_data", "destination": "/data"},
        {"type": "bind", "name": "", "source": "/srv/site", "destination": "/site"},
    ],
)
DONE = Container(
    id="77e1" + "0" * 60,
    name="job",
    image="alpine",
    image_id="sha256:" + "c" * 64,
    created="2026-01-01T00:00:01Z",
    config={},
    host_config={"Isolation": "default"},
    state=State(status="exited", exit_code=137, started_at="2026-01-01T00:00:03Z"),
)


def _lookup(ref: str) -> Container:
    return {"web": WEB, "job": DONE}[ref]


def _image_id(ref: str) -> str | None:
    images = {"busybox": WEB.image_id, "busybox:latest": WEB.image_id, "alpine": DONE.image_id}
    return images.get(ref) or (DONE.image_id if DONE.image_id.startswith("sha256:" + ref) else None)


@pytest.mark.parametrize(
    ("filters", "web", "done"),
    [
        ({"status": ["running"]}, True, False),
        ({"status": ["exited", "running"]}, True, True),
        ({"name": ["^/we"]}, True, False),
        ({"name": ["^job$"]}, False, True),
        ({"name": ["(bad"]}, False, False),
        ({"id": ["^3f2"]}, True, False),
        ({"ancestor": ["alpine"]}, False, True),
        ({"ancestor": ["busybox:latest"]}, True, False),  # any name of the image
        ({"ancestor": ["cccc"]}, False, True),  # an ID prefix
        ({"ancestor": ["nosuch"]}, False, False),  # no such image: nothing
        ({"ancestor": ["nosuch", "alpine"]}, False, True),
        ({"exited": ["137"]}, False, True),
        ({"exited": ["0"]}, False, False),
        ({"exited": ["0"], "status": ["running"]}, False, False),
        ({"label": ["tier=front"]}, True, False),
        ({"label": ["tier=back"]}, False, False),
        ({"health": ["healthy"]}, True, False),
        ({"health": ["none"]}, False, True),
        ({"isolation": ["default"]}, True, True),
        ({"isolation": ["hyperv"]}, False, False),
        ({"is-task": ["false"]}, True, True),
        ({"is-task": ["true"]}, False, False),
        ({"network": ["backend"]}, True, False),
        ({"network": ["9c1d"]}, True, False),
        ({"network": ["bridge"]}, False, False),
        ({"volume": ["data"]}, True, False),
        ({"volume": ["/data"]}, True, False),
        ({"volume": ["/srv/site"]}, True, False),
        ({"volume": ["/var/lib/dockyard/volumes/data/_data"]}, False, False),  # a volume goes by name
        ({"before": ["web"]}, False, True),
        ({"since": ["job"]}, True, False),
        ({"since": ["web"]}, False, False),
    ],
)
def test_container_filter_table(filters, web, done):
    ps = compile_filters(filters, _lookup, _image_id)
    assert (matches(WEB, ps), matches(DONE, ps)) == (web, done)


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"status": ["bogus"]}, "Invalid filter 'status=bogus'"),
        ({"health": ["x"]}, "Unrecognised filter value for health: x"),
        ({"is-task": ["maybe"]}, r"Invalid filter 'is-task=\[maybe\]'"),
        ({"is-task": ["true", "false"]}, r"Invalid filter 'is-task=\[true false\]'"),
        ({"exited": ["x"]}, 'strconv.Atoi: parsing "x": invalid syntax'),
        ({"publish": ["80:80"]}, "filter for 'publish' should not contain ':': 80:80"),
        ({"expose": ["1-x/tcp"]}, 'error while looking up for expose 1-x/tcp: strconv.ParseUint: parsing "x"'),
        ({"publish": ["abc"]}, 'error while looking up for publish abc: strconv.ParseUint: parsing "abc"'),
    ],
)
def test_bad_values_are_dockerds_400s(filters, message):
    with pytest.raises(InvalidArgument, match=message):
        compile_filters(filters, _lookup)


def test_ports_match_the_summary_as_dockerd():
    assert port_set("expose", "8000-8002/UDP") == {"8000/udp", "8001/udp", "8002/udp"}
    summary = {"Ports": [{"PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"}, {"PrivatePort": 53, "Type": "udp"}]}
    assert ports_match(summary, compile_filters({"publish": ["8080"]}, _lookup))
    assert not ports_match(summary, compile_filters({"publish": ["80"]}, _lookup))  # publish is the host's port
    assert ports_match(summary, compile_filters({"expose": ["80/tcp"]}, _lookup))
    assert ports_match(summary, compile_filters({"expose": ["50-60/udp"]}, _lookup))
    assert not ports_match(summary, compile_filters({"expose": ["53"]}, _lookup))  # tcp by default
    assert not ports_match({"Ports": []}, compile_filters({"expose": ["80"]}, _lookup))


def _names(engine, **kwargs) -> list[str]:
    options = {"all": True, "limit": None, "size": False, "filters": {}} | kwargs
    return [entry["Names"][0].lstrip("/") for entry in engine.containers.list(**options)]


def test_service_before_since_limit_and_errors(engine):
    for index, name in enumerate(("one", "two", "three")):
        engine.clock.advance(1)
        engine.containers.create(name, {"Image": "busybox", "Cmd": ["true"]}, {}, None)
        engine.containers.table.get(name).created = f"2026-01-01T00:00:0{index}Z"
    assert _names(engine, filters={"since": ["one"]}) == ["three", "two"]
    assert _names(engine, filters={"before": ["three"]}) == ["two", "one"]
    assert _names(engine, filters={"since": ["one"], "before": ["three"]}) == ["two"]
    assert _names(engine, all=False, filters={"since": ["one"]}) == []  # stopped ones need -a, as dockerd
    assert _names(engine, all=False, limit=2) == ["three", "two"]  # a limit lists stopped ones too
    assert _names(engine, filters={"exited": ["0"]}) == []  # never started: no exit code, as dockerd
    with pytest.raises(NotFound):
        engine.containers.list(all=True, limit=None, size=False, filters={"before": ["nosuch"]})
    with pytest.raises(InvalidArgument, match="Invalid filter 'status=bogus'"):
        engine.containers.list(all=True, limit=None, size=False, filters={"status": ["bogus"]})
    engine.containers.start("two")
    eventually(lambda: engine.containers.table.get("two").state.status == "exited")
    assert _names(engine, filters={"exited": ["0"], "status": ["exited"]}) == ["two"]

"""Pure shapes: status text and times; event filters and the bus."""

import threading
import time

import pytest

from dockyard.engine.containers.model import Container, State
from dockyard.engine.containers.views import parse_time, status_text, summary
from dockyard.engine.events import EventBus, matches


def test_parse_time_keeps_nanosecond_fraction():
    assert parse_time("1970-01-01T00:00:10.500000000Z") == pytest.approx(10.5)
    assert parse_time("0001-01-01T00:00:00Z") == 0.0


def _container(status: str, **state) -> Container:
    return Container(
        id="a" * 64,
        name="web",
        image="busybox",
        image_id="sha256:" + "b" * 64,
        created="1970-01-01T00:00:00Z",
        config={"Cmd": ["sleep", "9"]},
        host_config={},
        state=State(status=status, **state),
    )


def test_status_text_like_docker_ps():
    now = 1000.0
    assert status_text(_container("running", started_at="1970-01-01T00:16:37Z"), now) == "Up 3 seconds"
    exited = _container("exited", exit_code=137, finished_at="1970-01-01T00:14:40Z")
    assert status_text(exited, now) == "Exited (137) 2 minutes ago"
    assert status_text(_container("created"), now) == "Created"


def test_summary_shape():
    row = summary(_container("created"), 0)
    assert row["Names"] == ["/web"] and row["Command"] == "sleep 9" and row["State"] == "created"


def test_ps_shows_a_volume_source_once_a_start_mounted_it(engine):
    mounted = {"Mounts": [{"Type": "volume", "Target": "/mounted"}]}  # anonymous, but from HostConfig.Mounts
    config = {"Image": "busybox", "Cmd": ["sleep", "1000"], "Volumes": {"/data": {}}}
    engine.containers.create("web", config, mounted, None)

    def sources(destination: str = "/data") -> tuple[str, str]:
        (row,) = engine.containers.list(all=True, limit=None, size=False, filters={})
        listed = next(m["Source"] for m in row["Mounts"] if m["Destination"] == destination)
        return listed, next(
            m["Source"] for m in engine.containers.inspect("web")["Mounts"] if m["Destination"] == destination
        )

    assert sources("/mounted")[0] == sources("/mounted")[1] != ""  # dockerd's Mounts volumes have it from create
    listed, inspected = sources()
    assert listed == "" and inspected.endswith("/_data")  # inspect asks the volume; ps waits for the mount
    engine.containers.start("web")
    assert sources() == (inspected, inspected)
    engine.containers.stop("web", 0, None)
    assert sources() == (inspected, inspected)


def _event(action="start", name="web", labels=None):
    return {
        "Type": "container",
        "Action": action,
        "Actor": {"ID": "abc123", "Attributes": {"name": name, "image": "busybox", **(labels or {})}},
    }


def test_event_filters():
    event = _event(labels={"team": "a"})
    assert matches(event, {"event": ["start"], "container": ["web"]})
    assert matches(event, {"label": ["team=a"], "image": ["busybox"]})
    assert not matches(event, {"event": ["die"]})
    assert not matches(event, {"label": ["team=b"]})
    assert matches(_event("exec_start: sh"), {"event": ["exec_start"]})


def test_bus_replays_since_and_streams_live_events():
    bus = EventBus()
    start = time.time()
    bus.publish("container", "create", "c1", {"name": "one"})
    seen = []
    reader = threading.Thread(target=lambda: seen.extend(bus.subscribe(start, time.time() + 1, {})))
    reader.start()
    time.sleep(0.2)
    bus.publish("container", "start", "c1", {"name": "one"})
    reader.join()
    assert [e["Action"] for e in seen] == ["create", "start"]
    assert seen[0]["status"] == "create" and seen[0]["id"] == "c1"


def test_legacy_fields_on_container_and_image_events_only():
    bus = EventBus()
    start = time.time()
    bus.publish("image", "tag", "sha256:abc", {"name": "busybox:latest"})
    bus.publish("container", "start", "c1", {"image": "busybox"})
    bus.publish("network", "create", "n1", {"name": "net", "type": "bridge"})
    image, container, network = bus.subscribe(start, time.time(), {})
    assert (image["status"], image["id"]) == ("tag", "sha256:abc") and "from" not in image
    assert (container["status"], container["id"], container["from"]) == ("start", "c1", "busybox")
    assert not {"status", "id", "from"} & set(network)

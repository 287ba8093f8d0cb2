"""Filters end to end against the reference dockerd: the same scene on both daemons, the same
`--filter` through the real docker CLI, the same answer (names listed, or the error's words).
One test per endpoint: containers, images, networks, volumes, events."""

from __future__ import annotations

import json
import secrets
import subprocess
import time
import uuid
from urllib.parse import quote

import pytest

from tests.e2e.daemon import Daemon
from tests.e2e.rawhttp import request

pytestmark = pytest.mark.root

TAG = uuid.uuid4().hex[:6]


def _both(daemon, reference):
    return {"dockyard": daemon.docker, "dockerd": reference.docker}


def _answers(runners, *args: str) -> dict[str, object]:
    """Each daemon's answer: the sorted lines listed, or the error message."""
    answers = {}
    for name, run in runners.items():
        result = run(*args, check=False)
        if result.returncode == 0:
            answers[name] = sorted(line for line in result.stdout.splitlines() if line)
        else:
            answers[name] = result.stderr.strip().removeprefix("Error response from daemon: ")
    return answers


def _same(runners, *args: str) -> object:
    """Both answer alike; a listing (not an error) unless a value in args is one of BAD's."""
    answers = _answers(runners, *args)
    assert answers["dockyard"] == answers["dockerd"], " ".join(args)
    refused = any(bad in arg for arg in args for bad in BAD)
    assert isinstance(answers["dockerd"], list) != refused, (args, answers["dockerd"])
    return answers["dockerd"]


BAD = ("=bogus", "=maybe", "before=nosuch", "health=x", "exited=x", "80:80", "1-x/tcp", "type=x", "until=1h")


@pytest.fixture(scope="module")
def daemon():
    """dockyard with real networking, in a namespace of its own (networks are compared too)."""
    netns = f"dy-filters-{secrets.token_hex(3)}"
    subprocess.run(["ip", "netns", "add", netns], check=True)
    instance = Daemon(netns=netns)
    try:
        instance.start().import_busybox()
        yield instance
    finally:
        instance.cleanup()
        subprocess.run(["ip", "netns", "delete", netns], check=False)


def _raw_same(daemon, reference, method: str, path: str, filters: dict) -> None:
    """The same refusal, in the same words, from both for a request the CLI cannot send."""
    url = f"/v1.41{path}?filters={quote(json.dumps(filters))}"
    status, _, body = request(daemon.host, method, url)
    ref_status, _, ref_body = request(reference.host, method, url)
    assert status == 400 and ref_status in (400, 500), (url, body)
    assert json.loads(body)["message"] == json.loads(ref_body)["message"], url


@pytest.fixture(scope="module")
def scene(daemon, reference, busybox_tar):
    """busybox on both, and on each: a container that exited 3, a running one, a created one."""
    runners = _both(daemon, reference)
    reference.docker("import", str(busybox_tar), "busybox:latest")
    for run in runners.values():
        run("import", "-c", "LABEL stage=old", str(busybox_tar), f"f{TAG}-app:1")
        time.sleep(1.1)  # image and container times are compared to the second by some filters
        run("import", "-c", "LABEL stage=new", str(busybox_tar), f"f{TAG}-app:2")
        run("import", "-c", "LABEL stage=loose", str(busybox_tar))
        run("volume", "create", "--label", "tier=db", f"f{TAG}-data")
        run("volume", "create", f"f{TAG}-idle")
        common = ("--network", "none", "--label", f"set={TAG}")
        run("run", "--name", f"f{TAG}-done", *common, "--label", "tier=job", "-v", f"f{TAG}-data:/data",
            "busybox", "sh", "-c", "exit 3", check=False)  # fmt: skip
        time.sleep(1.1)
        run("run", "-d", "--name", f"f{TAG}-up", *common, "--label", "tier=web", "-v", "/tmp:/host-tmp",
            "busybox", "sleep", "300")  # fmt: skip
        time.sleep(1.1)
        run("create", "--name", f"f{TAG}-new", *common, "busybox", "true")
    yield runners
    for run in runners.values():
        run("rm", "-f", f"f{TAG}-done", f"f{TAG}-up", f"f{TAG}-new", check=False)
        run("volume", "rm", "-f", f"f{TAG}-data", f"f{TAG}-idle", check=False)
        run("rmi", "-f", f"f{TAG}-app:1", f"f{TAG}-app:2", check=False)


CONTAINER_FILTERS = [
    (),
    ("status=exited",),
    ("status=created", "status=running"),
    ("exited=3",),
    ("exited=0",),
    (f"name=^/f{TAG}-(up|new)$",),
    (f"name=^f{TAG}-d",),
    ("label=tier=web",),
    ("label=tier",),
    ("ancestor=busybox",),
    ("ancestor=busybox:latest",),
    ("ancestor=nosuch",),
    (f"before=f{TAG}-new",),
    (f"since=f{TAG}-done",),
    (f"since=f{TAG}-done", f"before=f{TAG}-new"),
    ("health=none",),
    ("health=healthy",),
    ("isolation=default",),
    ("is-task=false",),
    ("is-task=true",),
    ("network=none",),
    ("network=host",),
    (f"volume=f{TAG}-data",),
    ("volume=/data",),
    ("volume=/tmp",),
    ("volume=/nowhere",),
    ("status=bogus",),
    ("health=x",),
    ("is-task=maybe",),
    ("exited=x",),
    ("publish=80:80",),
    ("expose=1-x/tcp",),
]


def test_container_filters_answer_as_dockerd(scene):
    for filters in CONTAINER_FILTERS:
        args = [a for f in (f"label=set={TAG}", *filters) for a in ("--filter", f)]
        _same(scene, "ps", "-a", "--format", "{{.Names}}", *args)
    _same(scene, "ps", "--format", "{{.Names}}", "--filter", f"label=set={TAG}", "--filter", f"since=f{TAG}-done")


IMAGE_FILTERS = [
    (f"reference=f{TAG}-app",),
    (f"reference=f{TAG}-app:2",),
    (f"reference=f{TAG}-*:1",),
    ("reference=*",),
    ("label=stage=old",),
    ("label=stage",),
    ("dangling=true", "label=stage"),
    ("dangling=false", "label=stage"),
    (f"before=f{TAG}-app:2", "label=stage"),
    (f"since=f{TAG}-app:1", "label=stage"),
    ("dangling=maybe",),
    ("before=nosuch",),
]


def test_image_filters_answer_as_dockerd(scene):
    for filters in IMAGE_FILTERS:
        args = [a for f in filters for a in ("--filter", f)]
        answer = _same(scene, "images", "--format", "{{.Repository}}:{{.Tag}}", *args)
        if filters == ("reference=*",):
            assert "busybox:latest" in answer


def test_image_prune_filters_answer_as_dockerd(scene, daemon, reference, busybox_tar):
    for run in scene.values():
        run("import", "-c", "LABEL prune=keep", str(busybox_tar), f"f{TAG}-keep:1")
        run("import", "-c", "LABEL prune=drop", str(busybox_tar), f"f{TAG}-drop:1")
    _raw_same(daemon, reference, "POST", "/images/prune", {"dangling": ["maybe"]})
    _raw_same(daemon, reference, "POST", "/images/prune", {"until": ["bogus"]})
    listing = ("images", "--format", "{{.Repository}}", "--filter", "label=prune")
    scene["dockyard"]("image", "prune", "-a", "-f", "--filter", "label=prune", "--filter", "until=1h")
    scene["dockerd"]("image", "prune", "-a", "-f", "--filter", "label=prune", "--filter", "until=1h")
    assert _same(scene, *listing) == [f"f{TAG}-drop", f"f{TAG}-keep"]  # younger than an hour: kept
    scene["dockyard"]("image", "prune", "-a", "-f", "--filter", "label=prune", "--filter", "label!=prune=keep")
    scene["dockerd"]("image", "prune", "-a", "-f", "--filter", "label=prune", "--filter", "label!=prune=keep")
    assert _same(scene, *listing) == [f"f{TAG}-keep"]
    for run in scene.values():
        run("rmi", f"f{TAG}-keep:1")


NETWORK_FILTERS = [
    (f"name=^f{TAG}",),
    (f"name=f{TAG}-n",),
    ("driver=bridge", f"name=f{TAG}"),
    ("driver=host",),
    ("type=builtin", "name=^(host|none)$"),
    ("type=custom", f"name=f{TAG}"),
    ("label=zone=a",),
    ("label=zone",),
    ("scope=local", "name=^(host|none)$"),
    ("scope=swarm",),
    ("dangling=true", f"name=f{TAG}"),
    ("dangling=false", "name=^(host|none)$"),
    ("type=x",),
    ("dangling=maybe",),
]


def test_network_filters_answer_as_dockerd(scene):
    subnets = {"dockyard": "10.251.{}.0/24", "dockerd": "10.252.{}.0/24"}
    try:
        for name, run in scene.items():
            run("network", "create", "--subnet", subnets[name].format(1), "--label", "zone=a", f"f{TAG}-na")
            run("network", "create", "--subnet", subnets[name].format(2), "--label", "zone=b", f"f{TAG}-nb")
        for filters in NETWORK_FILTERS:
            _same(scene, "network", "ls", "--format", "{{.Name}}", *[a for f in filters for a in ("--filter", f)])
    finally:
        for run in scene.values():
            run("network", "rm", f"f{TAG}-na", f"f{TAG}-nb", check=False)


VOLUME_FILTERS = [
    (f"name=f{TAG}",),
    (f"name=^f{TAG}-d",),
    ("driver=local", f"name=f{TAG}"),
    ("driver=loc", f"name=f{TAG}"),
    ("label=tier=db",),
    ("dangling=true", f"name=f{TAG}"),
    ("dangling=false", f"name=f{TAG}"),
    ("dangling=maybe",),
]


def test_volume_filters_answer_as_dockerd(scene):
    for filters in VOLUME_FILTERS:
        _same(scene, "volume", "ls", "-q", *[a for f in filters for a in ("--filter", f)])
    _same(scene, "volume", "prune", "-f", "--filter", "until=1h")  # Invalid filter 'until' on both


EVENT_FILTERS = [
    (f"container=f{TAG}-ev", "event=start"),
    ("type=container", f"container=f{TAG}-e", "event=die", "event=destroy"),
    ("type=volume", f"volume=f{TAG}-evvol"),
    ("type=network", f"container=f{TAG}-ev"),
    (f"label=ev={TAG}", "event=create", "event=start"),
    (f"image=f{TAG}-app:1", "event=create"),
    (f"image=f{TAG}-app", "event=create"),
    ("scope=swarm",),
]


def test_event_filters_answer_as_dockerd(scene):
    since = str(int(time.time()) - 1)
    for run in scene.values():
        run("run", "--name", f"f{TAG}-ev", "--rm", "--network", "none", "--label", f"ev={TAG}", f"f{TAG}-app:1", "true")
        run("volume", "create", f"f{TAG}-evvol")
        run("volume", "rm", f"f{TAG}-evvol")
    until = str(int(time.time()) + 1)
    time.sleep(1.2)
    seen = []
    for filters in EVENT_FILTERS:
        args = [a for f in filters for a in ("--filter", f)]
        seen.append(
            _same(scene, "events", "--since", since, "--until", until, "--format", "{{.Type}} {{.Action}}", *args)
        )
    assert seen[0] == ["container start"] and seen[2] == ["volume create", "volume destroy"]


def test_publish_and_expose_on_a_published_container(daemon):
    """dockyard alone (the reference runs without a bridge, so it publishes nothing): publish is
    the host's port, expose the container's, as dockerd matches them on ps's Ports."""
    name = f"f{TAG}-pub"
    daemon.docker("run", "-d", "--name", name, "-p", "18080:80", "--expose", "90", "busybox", "sleep", "300")
    try:
        for filters, shown in [
            (("publish=18080",), True),
            (("publish=18000-18100/tcp",), True),
            (("publish=80",), False),
            (("expose=80",), True),
            (("expose=90",), True),
            (("expose=90/udp",), False),
        ]:
            args = [a for f in filters for a in ("--filter", f)]
            names = daemon.docker("ps", "--format", "{{.Names}}", *args).stdout.split()
            assert (name in names) == shown, filters
    finally:
        daemon.docker("rm", "-f", name)

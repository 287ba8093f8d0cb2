"""Swarm and plugin endpoints answer as a reference dockerd outside a swarm, with no plugins."""

from __future__ import annotations

import json

import pytest

from tests.e2e.rawhttp import request

pytestmark = pytest.mark.root

SAME_AS_DOCKERD = [
    ("GET", "/swarm"),
    ("GET", "/swarm/unlockkey"),
    ("POST", "/swarm/leave"),
    ("POST", "/swarm/leave?force=1"),
    ("POST", "/swarm/update?version=1"),
    ("POST", "/swarm/unlock"),
    ("GET", "/nodes"),
    ("GET", "/nodes/abc"),
    ("POST", "/nodes/abc/update?version=1"),
    ("DELETE", "/nodes/abc"),
    ("GET", "/services"),
    ("GET", "/services/abc"),
    ("POST", "/services/create"),
    ("POST", "/services/abc/update?version=1"),
    ("DELETE", "/services/abc"),
    ("GET", "/services/abc/logs?stdout=1"),
    ("GET", "/tasks"),
    ("GET", "/tasks/abc"),
    ("GET", "/tasks/abc/logs?stdout=1"),
    ("GET", "/secrets"),
    ("GET", "/secrets/abc"),
    ("POST", "/secrets/create"),
    ("DELETE", "/secrets/abc"),
    ("GET", "/configs"),
    ("GET", "/configs/abc"),
    ("POST", "/configs/create"),
    ("DELETE", "/configs/abc"),
    ("GET", "/plugins"),
    ("GET", "/plugins/privileges?remote=x"),
    ("GET", "/plugins/abc/json"),
    ("POST", "/plugins/abc/disable"),
    ("POST", "/plugins/abc/push"),
    ("DELETE", "/plugins/abc"),
]


@pytest.mark.parametrize("prefix", ["/v1.41", ""])
def test_swarm_and_plugin_endpoints_answer_as_dockerd(daemon, reference, prefix):
    differences = []
    for method, path in SAME_AS_DOCKERD:
        body = {} if method == "POST" else None
        ours = request(daemon.host, method, prefix + path, body)
        theirs = request(reference.host, method, prefix + path, body)
        if (ours[0], json.loads(ours[2])) != (theirs[0], json.loads(theirs[2])):
            differences.append((method, path, ours[0], ours[2], theirs[0], theirs[2]))
    assert differences == []


def test_enabling_swarm_or_installing_a_plugin_is_refused(daemon):
    for path in ("/swarm/init", "/swarm/join", "/plugins/pull?remote=x", "/plugins/create?name=x"):
        status, _, body = request(daemon.host, "POST", path, {})
        assert status == 501 and json.loads(body)["message"].startswith("dockyard does not")

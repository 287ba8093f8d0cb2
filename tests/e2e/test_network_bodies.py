"""Network request bodies, fuzzed as tests/api/test_body_fuzz.py does the others, against a
daemon with real networking in a namespace of its own: each is a 400, nothing changes."""

from __future__ import annotations

import json
import secrets
import subprocess

import pytest
from hypothesis import given

from tests.api.test_body_fuzz import FUZZ, NETWORK_ENDPOINTS, wrong_body
from tests.e2e.daemon import Daemon
from tests.e2e.rawhttp import request

pytestmark = pytest.mark.root


@pytest.fixture(scope="module")
def daemon():
    netns = f"dy-bodies-{secrets.token_hex(3)}"
    subprocess.run(["ip", "netns", "add", netns], check=True)
    instance = Daemon(netns=netns)
    try:
        instance.start()
        yield instance
    finally:
        instance.cleanup()
        subprocess.run(["ip", "netns", "delete", netns], check=False)


def listing(daemon) -> list[bytes]:
    return [request(daemon.host, "GET", path)[2] for path in ("/containers/json?all=1", "/networks")]


@pytest.mark.parametrize("path", sorted(NETWORK_ENDPOINTS))
def test_type_wrong_network_bodies_are_400_and_change_nothing(daemon, path):
    before = listing(daemon)

    @FUZZ
    @given(body=wrong_body(NETWORK_ENDPOINTS[path]))
    def check(body):
        status, _, answer = request(daemon.host, "POST", path, body)
        assert status == 400, (body, answer[:300])
        assert json.loads(answer)["message"].startswith("json: cannot unmarshal ")

    check()
    assert listing(daemon) == before


@pytest.mark.parametrize(
    ("path", "message"),
    [("/networks/create", "network name must be set"), ("/networks/bridge/connect", "container must be set")],
)
def test_missing_network_fields_are_400(daemon, path, message):
    status, _, answer = request(daemon.host, "POST", path, {})
    assert status == 400 and json.loads(answer)["message"].startswith(message)

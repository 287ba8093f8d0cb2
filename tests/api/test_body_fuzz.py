"""Fuzz: create, update, network, exec and volume bodies with type-wrong, missing, huge and
deeply nested values, derived from the type table (api/schema.py, itself held against the
spec), sent to the real ApiServer; each must be a 4xx JSON error naming the problem, and the
engine must be unchanged (containers, networks and volumes listed before and after)."""

from __future__ import annotations

import http.client
import json
import socket

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockyard.api import schema

ENDPOINTS = {
    "/containers/create": "runconfig.ContainerConfigWrapper",
    "/containers/web/update": "container.UpdateConfig",
    "/containers/web/exec": "types.ExecConfig",
    "/volumes/create": "volume.VolumeCreateBody",
}
# The network routes exist only over a real NetworkController (root, a netns of its own):
# tests/e2e/test_network_bodies.py sends them the same bodies.
NETWORK_ENDPOINTS = {
    "/networks/create": "types.NetworkCreateRequest",
    "/networks/bridge/connect": "types.NetworkConnect",
    "/networks/bridge/disconnect": "types.NetworkDisconnect",
}
KINDS = {
    "string": st.text(max_size=20) | st.just("x" * 100_000),
    "number": st.integers(min_value=-(2**70), max_value=2**70) | st.floats(allow_nan=False, allow_infinity=False),
    "bool": st.booleans(),
    "array": st.lists(st.integers() | st.text(max_size=5), min_size=1, max_size=3),
    "object": st.dictionaries(st.text(max_size=5), st.integers(), min_size=1, max_size=3),
}


def kinds_of(expr: str) -> set[str]:
    """The JSON kinds a value of `expr` may have."""
    if expr == "any":
        return set(KINDS)
    if expr == "strslice":
        return {"string", "array"}
    if expr.startswith("[]"):
        return {"array"}
    if expr.startswith("map[") or expr in schema.STRUCTS or expr == "struct {}":
        return {"object"}
    if expr == "bool":
        return {"bool"}
    return {"number"} if expr in schema._INTS else {"string"}


def nested(depth: int) -> st.SearchStrategy:
    """A value nested `depth` levels deep (arrays in objects in arrays ...)."""
    value: st.SearchStrategy = st.just(1)
    for level in range(depth):
        value = value.map(lambda v: [v]) if level % 2 else value.map(lambda v: {"k": v})
    return value


@st.composite
def wrong_value(draw, expr: str) -> object:
    """A value of `expr` that is wrong somewhere: at this level, or inside its items or fields."""
    if expr.startswith("[]") and expr != "[]uint" and draw(st.booleans()):
        return [draw(wrong_value(expr[2:]))]
    if expr.startswith("map[string]") and draw(st.booleans()):
        return {"key": draw(wrong_value(expr[len("map[string]") :]))}
    if expr in schema.STRUCTS and draw(st.booleans()):
        return draw(wrong_body(expr))
    kind = draw(st.sampled_from(sorted(set(KINDS) - kinds_of(expr))))
    if kind in ("array", "object") and draw(st.booleans()):
        return draw(nested(draw(st.integers(min_value=2, max_value=200))).filter(lambda v: kind_of(v) == kind))
    return draw(KINDS[kind])


def kind_of(value: object) -> str:
    return "array" if isinstance(value, list) else "object"


@st.composite
def wrong_body(draw, struct: str) -> dict:
    """A body of `struct` with one field of a wrong type (among well-typed ones)."""
    fields = {k: v for k, v in schema.STRUCTS[struct].items() if v != "any"}
    name = draw(st.sampled_from(sorted(fields)))
    return {name: draw(wrong_value(fields[name]))}


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path) -> None:
        super().__init__("localhost", timeout=30)
        self.unix_path = str(path)

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(self.unix_path)


def call(server, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    conn = UnixConnection(server.socket_path)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def snapshot(server) -> list[bytes]:
    return [call(server, "GET", path)[1] for path in ("/containers/json?all=1", "/networks", "/volumes")]


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("path", sorted(ENDPOINTS))
def test_type_wrong_bodies_are_400_and_change_nothing(server, path):
    before = snapshot(server)

    @FUZZ
    @given(body=wrong_body(ENDPOINTS[path]))
    def check(body):
        status, answer = call(server, "POST", path, json.dumps(body).encode())
        assert status == 400, (body, answer[:300])
        message = json.loads(answer)["message"]
        assert message.startswith("json: cannot unmarshal "), message

    check()
    assert snapshot(server) == before


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/containers/create", b"", "Config cannot be empty in order to create a container"),
        ("/containers/web/exec", b"{}", "No exec command specified"),
        ("/containers/create", b"[" * 100_000 + b"]" * 100_000, "invalid JSON in request body"),
        ("/containers/create", b'{"Image": "' + b"x" * 2_000_000 + b"", "invalid JSON in request body"),
    ],
    ids=["empty", "exec-no-cmd", "deep", "huge-unterminated"],
)
def test_missing_and_broken_bodies_are_400(server, path, body, message):
    before = snapshot(server)
    status, answer = call(server, "POST", path, body)
    assert status == 400
    assert json.loads(answer)["message"].startswith(message)
    assert snapshot(server) == before

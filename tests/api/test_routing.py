"""Routing and version prefixes, as pure functions (no server, no socket)."""

from __future__ import annotations

import json

import pytest

from dockyard import API_VERSION
from dockyard.api.backend import Backends
from dockyard.api.messages import Request
from dockyard.api.routers import build_router
from dockyard.api.routing import Route, Router, compile_pattern, negotiate, split_version
from dockyard.errors import InvalidArgument, NotFound, NotSupported


@pytest.mark.parametrize(
    ("path", "version", "rest"),
    [
        ("/v1.24/containers/json", "1.24", "/containers/json"),
        ("/v1.44/images/localhost:5000/a/b:tag/json", "1.44", "/images/localhost:5000/a/b:tag/json"),
        ("/containers/json", None, "/containers/json"),
        ("/_ping", None, "/_ping"),
        ("/v1.99/_ping", "1.99", "/_ping"),
        ("/vfoo/_ping", None, "/vfoo/_ping"),
    ],
)
def test_split_version(path, version, rest):
    assert split_version(path) == (version, rest)


@pytest.mark.parametrize("minor", range(24, 45))
def test_every_version_from_1_24_to_1_44_is_served_as_asked(minor):
    assert negotiate(f"1.{minor}") == f"1.{minor}"


def test_bare_path_is_served_at_the_reported_version():
    assert negotiate(None) == API_VERSION == "1.44"


def test_too_new_version_has_dockerds_message():
    with pytest.raises(InvalidArgument) as err:
        negotiate("1.99")
    assert str(err.value) == "client version 1.99 is too new. Maximum supported API version is 1.44"


def test_too_old_version_has_dockerds_message():
    with pytest.raises(
        InvalidArgument, match=r"^client version 1.12 is too old\. Minimum supported API version is 1.24"
    ):
        negotiate("1.12")


def test_versions_compare_numerically_not_as_text():
    with pytest.raises(InvalidArgument, match="too old"):
        negotiate("1.4")
    with pytest.raises(InvalidArgument, match="too new"):
        negotiate("2.0")


@pytest.mark.parametrize(
    ("pattern", "path", "params"),
    [
        ("/containers/{name:.*}/json", "/containers/web/json", {"name": "web"}),
        ("/images/{name:.*}/json", "/images/localhost:5000/a/b:tag/json", {"name": "localhost:5000/a/b:tag"}),
        ("/images/{name:.*}", "/images/busybox@sha256:abc", {"name": "busybox@sha256:abc"}),
        ("/exec/{id}/start", "/exec/abc/start", {"id": "abc"}),
    ],
)
def test_patterns_capture_params(pattern, path, params):
    assert compile_pattern(pattern).fullmatch(path).groupdict() == params


def test_plain_param_does_not_span_slashes():
    assert compile_pattern("/exec/{id}/start").fullmatch("/exec/a/b/start") is None


def _names(match) -> str:
    return match.route.handler.func.__name__


@pytest.fixture
def router() -> Router:
    return build_router(Backends(containers=None, execs=None, images=None, system=None))


@pytest.mark.parametrize(
    ("method", "path", "handler", "params"),
    [
        ("GET", "/containers/json", "get_list", {}),
        ("GET", "/containers/web/json", "get_inspect", {"name": "web"}),
        ("POST", "/containers/create", "post_create", {}),
        ("POST", "/containers/web/attach", "post_attach", {"name": "web"}),
        ("DELETE", "/containers/web", "delete_container", {"name": "web"}),
        ("POST", "/containers/web/exec", "post_create", {"name": "web"}),
        ("POST", "/exec/abc/start", "post_start", {"id": "abc"}),
        ("GET", "/images/json", "get_list", {}),
        ("GET", "/images/json/json", "get_inspect", {"name": "json"}),
        ("GET", "/images/localhost:5000/a/b:tag/json", "get_inspect", {"name": "localhost:5000/a/b:tag"}),
        ("GET", "/images/localhost:5000/a/b:tag/history", "get_history", {"name": "localhost:5000/a/b:tag"}),
        ("POST", "/images/localhost:5000/a/b/push", "post_push", {"name": "localhost:5000/a/b"}),
        ("POST", "/images/a/b:1/tag", "post_tag", {"name": "a/b:1"}),
        ("DELETE", "/images/localhost:5000/a/b:tag", "delete_image", {"name": "localhost:5000/a/b:tag"}),
        ("GET", "/images/get", "get_save", {}),
        ("GET", "/images/a/b/get", "get_save_one", {"name": "a/b"}),
        ("POST", "/images/create", "post_create", {}),
        ("POST", "/images/load", "post_load", {}),
        ("HEAD", "/_ping", "ping", {}),
        ("GET", "/_ping", "ping", {}),
        ("GET", "/events", "get_events", {}),
    ],
)
def test_route_table_matches_dockerds_paths(router, method, path, handler, params):
    match = router.match(method, path)
    assert _names(match) == handler
    assert match.params == params


def test_literal_routes_win_over_patterns(router):
    assert router.match("POST", "/containers/prune").route.pattern == "/containers/prune"
    assert router.match("GET", "/images/json").route.pattern == "/images/json"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nope"),
        ("PATCH", "/containers/json"),
        ("GET", "/containers/web/start"),
        ("HEAD", "/containers/json"),
    ],
)
def test_unknown_routes_are_page_not_found(router, method, path):
    with pytest.raises(NotFound, match="^page not found$"):
        router.match(method, path)


def test_first_registered_route_wins():
    router = Router([Route("GET", "/a/{x:.*}", "first"), Route("GET", "/a/b", "second")])
    assert router.match("GET", "/a/b").route.handler == "first"


def test_network_and_volume_routes_exist_only_with_their_backends(router):
    with pytest.raises(NotFound, match="page not found"):
        router.match("GET", "/networks")
    full = build_router(
        Backends(containers=None, execs=None, images=None, system=None, networks=object(), volumes=object())
    )
    assert _names(full.match("POST", "/networks/my/net/connect")) == "post_connect"
    assert full.match("POST", "/networks/my/net/connect").params == {"id": "my/net"}
    assert _names(full.match("GET", "/networks/")) == "get_list"
    assert _names(full.match("POST", "/volumes/create")) == "post_create"
    assert _names(full.match("DELETE", "/volumes/data")) == "delete_volume"


def test_network_prune_without_networking_deletes_nothing_and_checks_filters(router):
    route = router.match("POST", "/networks/prune").route
    prune = lambda filters: route.handler(Request("POST", "/networks/prune", "1.44", {}, {"filters": [filters]}))
    assert json.loads(prune('{"label":["a=b"]}').body) == {"NetworksDeleted": []}
    with pytest.raises(InvalidArgument, match="Invalid filter 'bogus'"):
        prune('{"bogus":["x"]}')


def test_a_server_without_a_builder_refuses_builds_with_501(router):
    for path in ("/build", "/build/prune"):
        route = router.match("POST", path).route
        with pytest.raises(NotSupported, match="building images is not supported by this server"):
            route.handler(Request("POST", path, "1.44", {}, {}))

"""Access control with credentials configured: nothing anonymous unless the config says so (read-only at
most), tokens carry only what the credentials allow, and per-repository rules by user and group."""

from __future__ import annotations

import base64
import json

import bcrypt
import pytest

from dockyard.errors import InvalidArgument
from dockyard.registry.access import matches, parse_rules, rights
from dockyard.registry.auth import Authorizer, Scope
from dockyard.registry.config import Config, config_from_dict
from tests.registry.registry_support import Client, RunningRegistry

USERS = {"alice": "a-pass", "bob": "b-pass", "carol": "c-pass"}
RULES = {
    "groups": {"dev": ["alice", "bob"]},
    "access": [
        {"repository": "team/**", "actions": ["pull", "push"], "groups": ["dev"]},
        {"repository": "team/app", "actions": ["delete"], "users": ["alice"]},
        {"repository": "*", "actions": ["pull"], "users": ["*"]},
        {"repository": "team/*", "actions": ["pull"], "users": ["*"]},
    ],
}


def basic(user: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{USERS[user]}".encode()).decode()


@pytest.fixture
def htpasswd(tmp_path):
    path = tmp_path / "htpasswd"
    lines = [f"{u}:{bcrypt.hashpw(p.encode(), bcrypt.gensalt(rounds=4)).decode()}" for u, p in USERS.items()]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def ruled(htpasswd: str, **extra) -> Config:
    return config_from_dict({"auth": {"htpasswd": htpasswd, **RULES, **extra}})


def test_patterns():
    assert matches("team/*", "team/app") and not matches("team/*", "team/a/b")
    assert matches("team/**", "team/a/b") and not matches("team/**", "teams/a")
    assert matches("a.b/c", "a.b/c") and not matches("a.b/c", "axb/c")
    assert matches("*", "busybox") and not matches("*", "library/busybox")


def test_rights_are_the_union_of_matching_rules():
    config = config_from_dict({"auth": {"htpasswd": "/dev/null", **RULES}})
    groups, rules = config.groups, config.access
    assert rights("alice", "team/app", rules, groups) == {"pull", "push", "delete"}
    assert rights("bob", "team/app", rules, groups) == {"pull", "push"}
    assert rights("carol", "team/app", rules, groups) == {"pull"}
    assert rights("carol", "team/x/y", rules, groups) == frozenset()
    assert rights("anyone", "x/y", (), {}) == {"pull", "push", "delete"}  # no rules: signed-in users do everything


@pytest.mark.parametrize(
    "doc, message",
    [
        ({"auth": {"htpasswd": "h", "anonymous": "read-write"}}, "read-only at most"),
        ({"auth": {"token": True, "anonymous": "read-write"}}, "read-only at most"),
        ({"auth": {"htpasswd": "h", "access": [{"repository": "a", "actions": ["pull"]}]}}, "names no users"),
        ({"auth": {"htpasswd": "h", "access": [{"repository": "a", "actions": ["own"], "users": ["*"]}]}}, "actions"),
        ({"auth": {"htpasswd": "h", "access": [{"repository": "a", "actions": ["pull"], "who": 1}]}}, "who"),
        ({"auth": {"htpasswd": "h", "access": {"repository": "a"}}}, "array of tables"),
        ({"auth": {"htpasswd": "h", "groups": {"dev": "alice"}}}, "list of names"),
        ({"auth": {"access": [{"repository": "a", "actions": ["pull"], "users": ["x"]}]}}, "need auth.htpasswd"),
    ],
)
def test_bad_access_config_is_refused(doc, message):
    with pytest.raises(InvalidArgument, match=message):
        config_from_dict(doc)


def test_anonymous_defaults():
    assert Config().anonymous_access == "read-write"
    assert Config(htpasswd="h").anonymous_access == "none"
    assert Config(token=True, anonymous="read-only").anonymous_access == "read-only"
    assert parse_rules([]) == ()


def test_basic_mode_is_closed_to_anonymous_clients_by_default(tmp_path, htpasswd):
    running = RunningRegistry(tmp_path / "storage", Config(htpasswd=htpasswd))
    try:
        anonymous = Client(running.host)
        for method, path in [
            ("POST", "/v2/team/app/blobs/uploads/"),
            ("DELETE", "/v2/team/app/manifests/v1"),
            ("GET", "/v2/team/app/tags/list"),
            ("GET", "/v2/_catalog"),
            ("GET", "/v2/"),
        ]:
            reply = anonymous.request(method, path)
            assert reply.status == 401, (method, path)
            assert reply.headers["www-authenticate"].startswith("Basic realm=")
        assert Client(running.host, basic("carol")).request("POST", "/v2/team/app/blobs/uploads/").status == 202
        assert list((tmp_path / "storage" / "uploads").iterdir()) != []
    finally:
        running.close()


def test_rules_decide_per_repository_user_and_group(tmp_path, htpasswd):
    running = RunningRegistry(tmp_path / "storage", ruled(htpasswd))
    try:
        alice, bob, carol = (Client(running.host, basic(u)) for u in ("alice", "bob", "carol"))
        digest = bob.push_blob("team/app", b"layer")
        assert carol.request("GET", f"/v2/team/app/blobs/{digest}").body == b"layer"
        denied = carol.request("POST", "/v2/team/app/blobs/uploads/")
        assert denied.status == 403 and denied.codes == ["DENIED"]
        assert bob.request("DELETE", f"/v2/team/app/blobs/{digest}").status == 403
        assert carol.request("GET", "/v2/team/a/b/tags/list").status == 403
        assert bob.request("POST", "/v2/other/blobs/uploads/").status == 403
        assert alice.request("DELETE", f"/v2/team/app/blobs/{digest}").status == 202
        assert Client(running.host).request("GET", f"/v2/team/app/blobs/{digest}").status == 401
    finally:
        running.close()


def token_claims(reply) -> list[dict]:
    body = reply.json()["token"].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["access"]


def test_tokens_carry_only_what_the_credentials_allow(tmp_path, htpasswd):
    running = RunningRegistry(tmp_path / "storage", ruled(htpasswd, token=True))
    try:
        scope = "/token?service=dockyard-registry&scope=repository:team/app:pull,push,delete"
        anonymous = Client(running.host)
        refused = anonymous.request("GET", scope)
        assert refused.status == 401 and refused.codes == ["UNAUTHORIZED"]
        form = b"grant_type=password&scope=repository:team/app:push"
        assert anonymous.request("POST", "/token", form).status == 401
        carol = Client(running.host, basic("carol")).request("GET", scope)
        assert token_claims(carol) == [{"type": "repository", "name": "team/app", "actions": ["pull"]}]
        writer = Client(running.host, "Bearer " + carol.json()["token"])
        push = writer.request("POST", "/v2/team/app/blobs/uploads/")
        assert push.status == 401 and 'error="insufficient_scope"' in push.headers["www-authenticate"]
        alice = Client(running.host, basic("alice")).request("GET", scope.replace("pull,push,delete", "*"))
        assert token_claims(alice)[0]["actions"] == ["delete", "pull", "push"]
        bob = Client(running.host, basic("bob")).request("GET", scope)
        assert token_claims(bob)[0]["actions"] == ["pull", "push"]
    finally:
        running.close()


def test_anonymous_read_only_tokens_pull_at_most():
    auth = Authorizer(Config(token=True, htpasswd=None, anonymous="read-only", token_secret="s"))
    claims = auth.claims(auth.issue(None, [Scope.parse("repository:a:pull,push,delete,*")]))
    assert claims["access"] == [{"type": "repository", "name": "a", "actions": ["pull"]}]
    assert auth.claims(auth.issue(None, [Scope.parse("registry:catalog:*")]))["access"][0]["actions"] == []


def test_the_catalog_shows_only_what_a_user_may_pull(tmp_path, htpasswd):
    open_registry = RunningRegistry(tmp_path / "storage")
    for name in ("solo", "secret/x", "team/app", "team/a/b"):
        open_registry.client().push_blob(name, b"x")
    open_registry.close()
    running = RunningRegistry(tmp_path / "storage", ruled(htpasswd))
    try:
        carol = Client(running.host, basic("carol")).request("GET", "/v2/_catalog")
        assert carol.json()["repositories"] == ["solo", "team/app"]
        bob = Client(running.host, basic("bob")).request("GET", "/v2/_catalog?n=2")
        assert bob.json()["repositories"] == ["solo", "team/a/b"] and "link" in bob.headers
    finally:
        running.close()

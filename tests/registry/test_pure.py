"""Pure cores of the registry: names, manifest validation, routing, ranges, pagination, tokens."""

from __future__ import annotations

import json

import pytest

from dockyard.errors import InvalidArgument
from dockyard.registry.auth import Authorizer, Scope
from dockyard.registry.config import Config, config_from_dict
from dockyard.registry.errcodes import RegistryError
from dockyard.registry.manifests import blobs, children, parse_manifest
from dockyard.registry.names import check_name, parse_reference
from dockyard.registry.routes import paginate, parse_content_range, parse_range, route
from tests.registry.registry_support import DOCKER_LIST, OCI_INDEX, OCI_MANIFEST, image_manifest, sha


@pytest.mark.parametrize("name", ["a", "library/alpine", "a.b/c_d/e__f/g-h---i", "x" * 255])
def test_valid_names(name):
    assert check_name(name) == name


@pytest.mark.parametrize(
    "name", ["", "A", "a/../b", "..", "a//b", "/a", "a/", "a/.b", "-a", "a%2fb", "x" * 256, "a\x00b", "a/b/../../etc"]
)
def test_invalid_names(name):
    with pytest.raises(RegistryError) as caught:
        check_name(name)
    assert caught.value.code.code == "NAME_INVALID" and caught.value.status == 400


def test_reference_is_tag_or_digest():
    assert parse_reference("v1.0") == "v1.0"
    assert parse_reference(sha(b"x")) == sha(b"x")
    for bad in ("-v", "a" * 129, "sha256:short"):
        with pytest.raises(RegistryError):
            parse_reference(bad)


def test_manifest_kinds_and_references():
    doc = image_manifest(b"{}", [b"l1", b"l2"])
    parsed = parse_manifest(json.dumps(doc).encode(), OCI_MANIFEST)
    assert [d.digest for d in blobs(parsed)] == [sha(b"{}"), sha(b"l1"), sha(b"l2")]
    assert parsed.referrer().artifact_type == "application/vnd.oci.image.config.v1+json"
    index = {"schemaVersion": 2, "manifests": [{"mediaType": OCI_MANIFEST, "digest": sha(b"m"), "size": 1}]}
    parsed = parse_manifest(json.dumps(index).encode(), "application/json")
    assert parsed.media_type == OCI_INDEX and children(parsed)[0].digest == sha(b"m") and blobs(parsed) == ()
    listed = parse_manifest(json.dumps({**index, "mediaType": DOCKER_LIST}).encode(), DOCKER_LIST + "; charset=x")
    assert listed.media_type == DOCKER_LIST


@pytest.mark.parametrize(
    "body,content_type,reason",
    [
        (b"{not json", OCI_MANIFEST, "invalid manifest JSON"),
        (b"[]", OCI_MANIFEST, "JSON object"),
        (json.dumps({"schemaVersion": 1}).encode(), OCI_MANIFEST, "schemaVersion"),
        (json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST}).encode(), OCI_MANIFEST, "config missing"),
        (
            json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}).encode(),
            OCI_MANIFEST,
            "does not match",
        ),
        (
            json.dumps({"schemaVersion": 2, "config": {"mediaType": "x", "digest": "sha256:1", "size": 1}}).encode(),
            OCI_MANIFEST,
            "digest",
        ),
        (
            json.dumps({"schemaVersion": 2, "config": {"mediaType": "x", "digest": sha(b""), "size": -1}}).encode(),
            OCI_MANIFEST,
            "size",
        ),
        (
            json.dumps(
                {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v1+prettyjws"}
            ).encode(),
            None,
            "schema1",
        ),
    ],
)
def test_bad_manifests(body, content_type, reason):
    with pytest.raises(RegistryError) as caught:
        parse_manifest(body, content_type)
    assert caught.value.code.code in ("MANIFEST_INVALID", "DIGEST_INVALID")
    assert reason in json.dumps(caught.value.detail) + str(caught.value)


def test_routes_split_names_from_the_right():
    assert route("/v2/a/b/blobs/uploads/").kind == "upload"
    assert route("/v2/a/blobs/uploads/b/blobs/x").params == {"name": "a/blobs/uploads/b", "digest": "x"}
    found = route("/v2/a/b/manifests/latest")
    assert (found.kind, found.params) == ("manifest", {"name": "a/b", "reference": "latest"})
    assert route("/v2/_catalog").kind == "catalog" and route("/v3/x") is None


def test_ranges():
    assert parse_range(None, 10) is None
    assert parse_range("bytes=2-4", 10) == (2, 4)
    assert parse_range("bytes=5-", 10) == (5, 9)
    assert parse_range("bytes=-3", 10) == (7, 9)
    assert parse_range("bytes=8-100", 10) == (8, 9)
    for bad in ("bytes=10-", "bytes=5-2", "items=1-2", "bytes=-"):
        with pytest.raises(RegistryError) as caught:
            parse_range(bad, 10)
        assert caught.value.status == 416
    assert parse_content_range("0-99") == 0 and parse_content_range("bytes 100-199/*") == 100
    with pytest.raises(RegistryError):
        parse_content_range("abc")


def test_paginate():
    items = ["a", "b", "c"]
    assert paginate(items, None, None) == (items, False)
    assert paginate(items, "2", None) == (["a", "b"], True)
    assert paginate(items, "2", "b") == (["c"], False)
    assert paginate(items, "0", None) == ([], False)
    with pytest.raises(RegistryError):
        paginate(items, "-1", None)


def test_tokens_carry_granted_scopes_and_expire():
    auth = Authorizer(Config(token=True, anonymous="read-only", token_secret="s"))
    anonymous = auth.claims(auth.issue(None, [Scope.parse("repository:a/b:pull,push")]))
    assert anonymous["access"] == [{"type": "repository", "name": "a/b", "actions": ["pull"]}]
    signed_in = auth.claims(auth.issue("alice", [Scope.parse("repository:a/b:pull,push")]))
    assert signed_in["access"][0]["actions"] == ["pull", "push"] and signed_in["sub"] == "alice"
    token = auth.issue("alice", [])
    assert auth.claims(token[:-2] + ("AA" if not token.endswith("AA") else "BB")) is None
    other = Authorizer(Config(token=True, anonymous="read-only", token_secret="other"))
    assert other.claims(token) is None
    expired = Authorizer(Config(token=True, anonymous="read-only", token_secret="s", token_ttl=-10))
    assert auth.claims(expired.issue("alice", [])) is None


def test_a_token_lives_at_least_its_ttl(monkeypatch):
    """Issued late in a second, a 1 s token must not expire within the same second."""
    auth = Authorizer(Config(token=True, anonymous="read-only", token_secret="s", token_ttl=1))
    monkeypatch.setattr("time.time", lambda: 1_000.95)
    token = auth.issue("alice", [])
    assert auth.claims(token)["exp"] >= 1_000.95 + 1
    monkeypatch.setattr("time.time", lambda: 1_001.9)  # 0.95 s later: still valid
    assert auth.claims(token) is not None
    monkeypatch.setattr("time.time", lambda: 1_002.0)
    assert auth.claims(token) is None


def test_config_sections_and_errors():
    config = config_from_dict(
        {"auth": {"anonymous": "read-only"}, "storage": {"max_upload_size": 10}, "proxy": {"remote_url": "http://x"}}
    )
    assert (config.anonymous, config.max_upload_size, config.proxy_remote_url) == ("read-only", 10, "http://x")
    for bad in ({"nope": {}}, {"auth": {"nope": 1}}, {"auth": {"anonymous": "maybe"}}, {"http": {"tls_key": "k"}}):
        with pytest.raises(InvalidArgument):
            config_from_dict(bad)

"""Query, filter, auth header and JSON body parsing (pure)."""

from __future__ import annotations

import base64
import io
import json

import pytest

from dockyard.api import query
from dockyard.errors import InvalidArgument


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("true", True),
        ("True", True),
        ("TRUE", True),
        ("yes", True),
        (" 1 ", True),
        ("0", False),
        ("false", False),
        ("False", False),
        ("", False),
        ("no", False),
        ("none", False),
    ],
)
def test_booleans_parse_as_dockerd(value, expected):
    assert query.boolean({"all": [value]}, "all") is expected


def test_absent_boolean_takes_default():
    assert query.boolean({}, "stream", default=True) is True
    assert query.boolean({}, "stream") is False


def test_first_value_wins():
    assert query.text({"name": ["a", "b"]}, "name") == "a"


def test_integer():
    assert query.integer({"t": ["10"]}, "t") == 10
    assert query.integer({"t": [""]}, "t", 5) == 5
    assert query.integer({}, "t") is None
    with pytest.raises(InvalidArgument, match="invalid value for t: 'ten'"):
        query.integer({"t": ["ten"]}, "t")


def test_timestamp():
    assert query.timestamp({"since": ["1700000000.500000000"]}, "since") == 1700000000.5
    assert query.timestamp({"since": ["1700000000"]}, "since") == 1700000000.0
    assert query.timestamp({"since": [""]}, "since") is None
    assert query.timestamp({"until": ["-5"]}, "until") == -5.0
    with pytest.raises(InvalidArgument, match=r'^strconv.ParseInt: parsing "10m": invalid syntax$'):
        query.timestamp({"since": ["10m"]}, "since")
    with pytest.raises(InvalidArgument, match=r'^strconv.ParseInt: parsing "5x": invalid syntax$'):
        query.timestamp({"since": ["1700000000.5x"]}, "since")
    for bad, part in (("5.-3", "-3"), ("5.", "")):  # a signed or empty fraction is no number (was a 500)
        with pytest.raises(InvalidArgument, match=f'^strconv.ParseInt: parsing "{part}": invalid syntax$'):
            query.timestamp({"since": [bad]}, "since")


def test_filters_accept_the_list_shape():
    raw = json.dumps({"status": ["running", "exited"], "label": ["a=b"]})
    assert query.filters({"filters": [raw]}) == {"status": ["running", "exited"], "label": ["a=b"]}


def test_filters_accept_the_legacy_map_shape():
    raw = json.dumps({"dangling": {"true": True}, "label": {"a": True, "b": False}})
    assert query.filters({"filters": [raw]}) == {"dangling": ["true"], "label": ["a", "b"]}


def test_missing_or_empty_filters_are_empty():
    assert query.filters({}) == {}
    assert query.filters({"filters": [""]}) == {}
    assert query.filters({"filters": ["{}"]}) == {}


@pytest.mark.parametrize("raw", ["{", "[1]", '{"a": "b"}', '{"a": [1]}', '{"a": {"b": "yes"}}'])
def test_bad_filters_are_invalid_argument(raw):
    with pytest.raises(InvalidArgument, match="invalid filter"):
        query.filters({"filters": [raw]})


def _auth(value: object, pad: bool = True) -> str:
    encoded = base64.urlsafe_b64encode(json.dumps(value).encode()).decode()
    return encoded if pad else encoded.rstrip("=")


@pytest.mark.parametrize("pad", [True, False])
def test_registry_auth_decodes_base64url_json(pad):
    auth = {"username": "u?>", "password": "p~~~", "serveraddress": "localhost:5000"}
    assert query.registry_auth(_auth(auth, pad)) == auth


def test_empty_registry_auth_is_none():
    assert query.registry_auth(None) is None
    assert query.registry_auth("") is None
    assert query.registry_auth(_auth({})) is None


@pytest.mark.parametrize("header", ["not base64!", base64.urlsafe_b64encode(b"not json").decode(), _auth([1])])
def test_bad_registry_auth_is_invalid_argument(header):
    with pytest.raises(InvalidArgument, match="invalid X-Registry-Auth header"):
        query.registry_auth(header)


def test_json_body():
    assert query.json_body(io.BytesIO(b'{"Image": "busybox"}')) == {"Image": "busybox"}
    assert query.json_body(io.BytesIO(b"")) is None
    assert query.json_body(io.BytesIO(b"  \n")) is None


def test_malformed_json_body_is_invalid_argument():
    with pytest.raises(InvalidArgument, match="^invalid JSON in request body: "):
        query.json_body(io.BytesIO(b'{"Image": '))


@pytest.mark.parametrize(
    ("accepted", "name"),
    [
        (query.CONTAINER_LIST, "x"),
        (query.PRUNE, "dangling"),
        (query.IMAGE_LIST, "name"),
        (query.NETWORK_LIST, "until"),
        (query.VOLUME_LIST, "until"),
        (query.VOLUME_PRUNE, "until"),
    ],
)
def test_unknown_filters_are_dockerds_400(accepted, name):
    with pytest.raises(InvalidArgument, match=f"^Invalid filter '{name}'$"):
        query.filters({"filters": [json.dumps({name: ["a"]})]}, accepted)


def test_every_documented_filter_is_accepted():
    documented = {
        query.CONTAINER_LIST: "ancestor before since expose publish exited health id isolation is-task label name network status volume",
        query.IMAGE_LIST: "before dangling label reference since until",
        query.PRUNE: "until label label!",
        query.IMAGE_PRUNE: "dangling until label label!",
    }
    for accepted, names in documented.items():
        raw = json.dumps({name: ["a"] for name in names.split()})
        assert set(query.filters({"filters": [raw]}, accepted)) == set(names.split())

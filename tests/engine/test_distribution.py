"""The engine's pull/push/login input handling: references and credentials (pure, no root)."""

from __future__ import annotations

import base64

import pytest

from dockyard.distribution.credentials import Credentials
from dockyard.engine.images.distribution import credentials_from, pull_reference
from dockyard.errors import InvalidArgument

DIGEST = "sha256:" + "a" * 64


def test_credentials_from_auth_configs():
    assert credentials_from(None) is None and credentials_from({}) is None
    assert credentials_from({"serveraddress": "x"}) is None  # what the docker CLI sends when logged out
    assert credentials_from({"username": "u", "password": "p"}) == Credentials("u", "p")
    encoded = base64.b64encode(b"alice:pa:ss").decode()
    assert credentials_from({"auth": encoded}) == Credentials("alice", "pa:ss")
    assert credentials_from({"identitytoken": "tok"}) == Credentials("", "", "tok")
    with pytest.raises(InvalidArgument, match="auth is not base64"):
        credentials_from({"auth": "%%%"})


@pytest.mark.parametrize(
    "image, tag, expected, all_tags",
    [
        ("busybox", "latest", "docker.io/library/busybox:latest", False),
        ("busybox", None, "docker.io/library/busybox", True),
        ("busybox", "", "docker.io/library/busybox", True),
        ("localhost:5000/a/b", "v1", "localhost:5000/a/b:v1", False),
        ("busybox:1.36", None, "docker.io/library/busybox:1.36", False),
        ("busybox", DIGEST, f"docker.io/library/busybox@{DIGEST}", False),
        (f"busybox@{DIGEST}", None, f"docker.io/library/busybox@{DIGEST}", False),
    ],
)
def test_pull_reference(image, tag, expected, all_tags):
    ref, every = pull_reference(image, tag)
    assert str(ref) == expected and every == all_tags


def test_pull_reference_refuses_bad_names():
    with pytest.raises(InvalidArgument, match="invalid reference format"):
        pull_reference("Busy Box", "latest")

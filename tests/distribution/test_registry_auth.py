"""Basic auth (htpasswd) and bearer tokens (a token server run by the test) against docker-registry."""

import base64
import json

import pytest

from dockyard.content.local import LocalContentStore
from dockyard.distribution.client import Registries
from dockyard.distribution.config import RegistryConfig
from dockyard.distribution.credentials import Credentials, DockerConfigFile
from dockyard.distribution.login import LOGIN_SUCCEEDED, login, logout
from dockyard.distribution.pull import pull
from dockyard.distribution.pusher import Pusher
from dockyard.errors import NotFound, Unauthorized
from dockyard.oci.reference import parse_reference
from dockyard.paths import DataRoot

from .conftest import PASSWORD, USER
from .imagegen import make_image


@pytest.fixture
def docker_config(tmp_path):
    return DockerConfigFile(tmp_path / "docker" / "config.json")


@pytest.fixture
def stores(tmp_path):
    return (LocalContentStore(DataRoot(tmp_path / "source")), LocalContentStore(DataRoot(tmp_path / "target")))


def test_basic_auth_push_and_pull_with_stored_login(basic_registry, docker_config, stores):
    source, target = stores
    registries = Registries(RegistryConfig(), docker_config)
    ref = parse_reference(f"{basic_registry.address}/private/app:v1")
    manifest = make_image(source, [{"secret": b"data"}])
    with pytest.raises(Unauthorized):
        Pusher(registries).push(ref, manifest, source)
    assert login(registries, basic_registry.address, USER, PASSWORD, docker_config) == LOGIN_SUCCEEDED
    stored = json.loads(docker_config.path.read_text())
    assert stored["auths"][basic_registry.address]["auth"] == base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert docker_config.path.stat().st_mode & 0o777 == 0o600
    fresh = Registries(RegistryConfig(), docker_config)  # credentials come from config.json now
    Pusher(fresh).push(ref, manifest, source)
    assert pull(fresh, ref, target).digest == manifest.digest


def test_basic_auth_wrong_password(basic_registry, docker_config):
    registries = Registries(RegistryConfig(), docker_config)
    with pytest.raises(Unauthorized, match="failed with status: 401 Unauthorized"):
        login(registries, basic_registry.address, USER, "wrong", docker_config)
    assert not docker_config.path.exists()


def test_basic_auth_pull_without_credentials_is_denied(basic_registry, docker_config, stores):
    registries = Registries(RegistryConfig(), docker_config)
    with pytest.raises(Unauthorized, match=f"pull access denied for {basic_registry.address}/private/app"):
        pull(registries, parse_reference(f"{basic_registry.address}/private/app:v1"), stores[1])
    assert list(stores[1].list()) == []


def test_bearer_token_anonymous_pull_and_authenticated_push(token_registry, docker_config, stores):
    registry, tokens = token_registry
    source, target = stores
    ref = parse_reference(f"{registry.address}/team/app:v1")
    manifest = make_image(source, [{"a": b"token"}])
    anonymous = Registries(RegistryConfig(), docker_config)
    with pytest.raises(Unauthorized):
        Pusher(anonymous).push(ref, manifest, source)
    creds = Credentials(USER, PASSWORD)
    Pusher(anonymous).push(ref, manifest, source, credentials=creds)
    pushes = [r for r in tokens.requests if r["user"] == USER]
    assert pushes and all(r["service"] == "dockyard-test-registry" for r in pushes)
    assert any(s == "repository:team/app:pull,push" for r in pushes for s in r["scope"])
    resolved = pull(anonymous, ref, target)
    assert resolved.digest == manifest.digest
    assert tokens.requests[-1]["user"] == "" and "repository:team/app:pull" in tokens.requests[-1]["scope"]


def test_bearer_token_is_reused_across_requests(token_registry, docker_config, stores):
    registry, tokens = token_registry
    source, target = stores
    creds = Credentials(USER, PASSWORD)
    registries = Registries(RegistryConfig(), docker_config)
    manifest = make_image(source, [{"a": b"1"}, {"b": b"2"}, {"c": b"3"}])
    ref = parse_reference(f"{registry.address}/team/reuse:v1")
    Pusher(registries).push(ref, manifest, source, credentials=creds)
    before = len(tokens.requests)
    pull(registries, ref, target, credentials=creds)
    assert len(tokens.requests) - before == 1  # one pull-scope token for manifest, config and 3 layers


def test_bearer_login_checks_the_password_with_the_token_server(token_registry, docker_config):
    registry, _ = token_registry
    registries = Registries(RegistryConfig(), docker_config)
    with pytest.raises(Unauthorized, match="incorrect username or password"):
        login(registries, registry.address, USER, "nope", docker_config)
    assert login(registries, f"http://{registry.address}/", USER, PASSWORD, docker_config) == LOGIN_SUCCEEDED
    assert docker_config.get(registry.address) == Credentials(USER, PASSWORD)
    assert logout(registry.address, docker_config) == f"Removing login credentials for {registry.address}"
    assert docker_config.get(registry.address) is None
    with pytest.raises(NotFound, match="Not logged in"):
        logout(registry.address, docker_config)

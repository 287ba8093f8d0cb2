"""~/.docker/config.json: auths, credsStore and credHelpers (with a real helper program)."""

import base64
import json
import os
import stat

import pytest

from dockyard.distribution.credentials import Credentials, DockerConfigFile, default_config_path
from dockyard.errors import InvalidArgument

HELPER = """#!/bin/sh
# A docker-credential helper keeping secrets in files, speaking the helper protocol.
dir="{store}"
read -r input || true
case "$1" in
  get)   key=$(printf %s "$input" | tr '/:' '__'); [ -f "$dir/$key" ] && cat "$dir/$key" && exit 0
         echo "credentials not found in native keychain"; exit 1 ;;
  store) key=$(printf %s "$input" | sed 's/.*"ServerURL": *"\\([^"]*\\)".*/\\1/' | tr '/:' '__')
         printf %s "$input" > "$dir/$key" ;;
  erase) key=$(printf %s "$input" | tr '/:' '__'); rm -f "$dir/$key" ;;
esac
"""


@pytest.fixture
def helper(tmp_path, monkeypatch):
    bindir, store = tmp_path / "bin", tmp_path / "secrets"
    bindir.mkdir(), store.mkdir()
    program = bindir / "docker-credential-dytest"
    program.write_text(HELPER.format(store=store))
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    return store


def auth(user, password):
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def test_reads_auths_written_by_docker(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(
        json.dumps(
            {
                "auths": {
                    "https://index.docker.io/v1/": {"auth": auth("hubuser", "hubpass")},
                    "http://localhost:5000/v2/": {"auth": auth("a", "b:c")},
                    "quay.io": {"identitytoken": "refresh-me", "auth": ""},
                }
            }
        )
    )
    config = DockerConfigFile(path)
    assert config.get("docker.io") == Credentials("hubuser", "hubpass")
    assert config.get("localhost:5000") == Credentials("a", "b:c")
    assert config.get("quay.io") == Credentials(identity_token="refresh-me")
    assert config.get("ghcr.io") is None


def test_store_keeps_other_keys_and_uses_dockers_hub_key(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"psFormat": "table {{.ID}}", "auths": {}}))
    config = DockerConfigFile(path)
    config.store("docker.io", Credentials("u", "p"))
    data = json.loads(path.read_text())
    assert data["psFormat"] == "table {{.ID}}"
    assert data["auths"] == {"https://index.docker.io/v1/": {"auth": auth("u", "p")}}
    assert config.erase("docker.io") and config.get("docker.io") is None


def test_creds_store_helper_round_trip(tmp_path, helper):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"credsStore": "dytest"}))
    config = DockerConfigFile(path)
    assert config.get("registry.example:5000") is None
    config.store("registry.example:5000", Credentials("helper-user", "helper-secret"))
    assert json.loads(path.read_text())["auths"] == {"registry.example:5000": {}}
    assert config.get("registry.example:5000") == Credentials("helper-user", "helper-secret")
    assert config.erase("registry.example:5000")
    assert config.get("registry.example:5000") is None


def test_cred_helpers_win_for_their_registry(tmp_path, helper):
    path = tmp_path / "config.json"
    (helper / "gcr.io").write_text(json.dumps({"ServerURL": "gcr.io", "Username": "<token>", "Secret": "tok"}))
    path.write_text(
        json.dumps(
            {
                "credHelpers": {"gcr.io": "dytest"},
                "auths": {"gcr.io": {"auth": auth("plain", "text")}, "other.io": {"auth": auth("o", "p")}},
            }
        )
    )
    config = DockerConfigFile(path)
    assert config.get("gcr.io") == Credentials(identity_token="tok")
    assert config.get("other.io") == Credentials("o", "p")


def test_missing_helper_is_a_clear_error(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"credsStore": "does-not-exist-anywhere"}))
    with pytest.raises(Exception, match="error getting credentials"):
        DockerConfigFile(path).get("x.io")


def test_broken_config_file(tmp_path):
    path = tmp_path / "config.json"
    path.write_text("{broken")
    with pytest.raises(InvalidArgument, match="loading config file"):
        DockerConfigFile(path).get("x.io")
    path.write_text(json.dumps({"auths": {"x.io": {"auth": "!!!notbase64"}}}))
    with pytest.raises(InvalidArgument, match="invalid auth configuration file"):
        DockerConfigFile(path).get("x.io")


def test_docker_config_env(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "d"))
    assert default_config_path() == tmp_path / "d" / "config.json"

"""Registry credentials as docker keeps them in `~/.docker/config.json`.

    {"auths": {"localhost:5000": {"auth": base64("user:password")},
               "https://index.docker.io/v1/": {"identitytoken": "..."}},
     "credsStore": "pass",                      every registry through docker-credential-pass
     "credHelpers": {"gcr.io": "gcloud"}}       one registry through docker-credential-gcloud

Lookup order for a registry: its credHelpers entry, then credsStore, then auths. Docker Hub's
key is `https://index.docker.io/v1/`. Helpers speak docker-credential-helpers' protocol:
`get`/`erase` read the server URL on stdin, `store` reads {"ServerURL","Username","Secret"}.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any, NamedTuple, Protocol
from urllib.parse import urlsplit

from dockyard import atomic
from dockyard.errors import InvalidArgument, Unavailable

DOCKER_HUB_KEY = "https://index.docker.io/v1/"
_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io", DOCKER_HUB_KEY}
TOKEN_USERNAME = "<token>"


class Credentials(NamedTuple):
    """A username and password, or an identity (refresh) token.

    A NamedTuple: the CLI reads credentials too, and dataclasses cost it ~10 ms of start-up.
    """

    username: str = ""
    password: str = ""
    identity_token: str = ""


class CredentialSource(Protocol):
    """Finds credentials for a registry host ("host[:port]", or "docker.io")."""

    def get(self, registry: str) -> Credentials | None: ...


def server_key(registry: str) -> str:
    """The key docker files a registry's credentials under."""
    return DOCKER_HUB_KEY if registry in _HUB_ALIASES else registry


def _hostname(key: str) -> str:
    """`https://host:5000/v1/` -> `host:5000`, as docker's ConvertToHostname."""
    return urlsplit(key).netloc if "://" in key else key.split("/")[0]


def registry_host(server: str | None) -> str:
    """The registry a `login SERVER` argument names: `https://index.docker.io/v1/` -> `docker.io`."""
    host = _hostname(server or "")
    return "docker.io" if host in ("", *_HUB_ALIASES) else host


def default_config_path() -> Path:
    directory = os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker"
    return Path(directory) / "config.json"


class DockerConfigFile:
    """Reads and writes credentials in a docker config.json, keeping its other keys."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_config_path()

    def load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            raise InvalidArgument(f"loading config file {self.path}: {exc}") from None
        return data if isinstance(data, dict) else {}

    def helper(self, registry: str) -> str:
        data = self.load()
        key = server_key(registry)
        return (
            (data.get("credHelpers") or {}).get(key)
            or (data.get("credHelpers") or {}).get(_hostname(key))
            or data.get("credsStore")
            or ""
        )

    def get(self, registry: str) -> Credentials | None:
        key = server_key(registry)
        helper = self.helper(registry)
        if helper:
            return _helper_get(helper, key)
        for name, entry in (self.load().get("auths") or {}).items():
            if server_key(_hostname(name)) == key or name == key:
                return _decode_entry(entry)
        return None

    def store(self, registry: str, credentials: Credentials) -> None:
        key = server_key(registry)
        helper = self.helper(registry)
        data = self.load()
        auths = data.setdefault("auths", {})
        if helper:
            _helper_call(
                helper,
                "store",
                json.dumps({"ServerURL": key, "Username": credentials.username, "Secret": credentials.password}),
            )
            auths[key] = {}
        else:
            token = base64.b64encode(f"{credentials.username}:{credentials.password}".encode()).decode()
            auths[key] = {"auth": token}
        self._write(data)

    def erase(self, registry: str) -> bool:
        """Forget a registry's credentials; False when there were none."""
        key = server_key(registry)
        helper = self.helper(registry)
        data = self.load()
        found = (data.get("auths") or {}).pop(key, None) is not None
        if helper:
            _helper_call(helper, "erase", key)
        if found:
            self._write(data)
        return found or bool(helper)

    def _write(self, data: dict[str, Any]) -> None:
        """Atomic write, mode 0600, as docker does."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic.write_json(self.path, data, mode=0o600, indent="\t")


def _decode_entry(entry: dict[str, Any]) -> Credentials | None:
    username, password = entry.get("username", ""), entry.get("password", "")
    if entry.get("auth"):
        try:
            username, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise InvalidArgument("invalid auth configuration file") from None
    token = entry.get("identitytoken", "")
    if not (username or token):
        return None
    return Credentials(username, password, token)


def _helper_call(helper: str, action: str, payload: str) -> str:
    import subprocess  # here, not at the top: only a configured helper needs it (CLI start-up)

    program = f"docker-credential-{helper}"
    try:
        done = subprocess.run([program, action], input=payload, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Unavailable(f"error getting credentials - err: {exc}") from None
    if done.returncode != 0:
        message = (done.stdout or done.stderr).strip()
        if "credentials not found" in message:
            return ""
        raise Unavailable(f"error getting credentials - err: exit status {done.returncode}, out: `{message}`")
    return done.stdout


def _helper_get(helper: str, key: str) -> Credentials | None:
    out = _helper_call(helper, "get", key)
    if not out.strip():
        return None
    try:
        data = json.loads(out)
    except ValueError:
        raise Unavailable(f"error getting credentials - err: invalid output from docker-credential-{helper}") from None
    if data.get("Username") == TOKEN_USERNAME:
        return Credentials(identity_token=data.get("Secret", ""))
    return Credentials(data.get("Username", ""), data.get("Secret", ""))

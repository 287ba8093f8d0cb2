"""Registry credentials in ~/.docker/config.json, stored as docker stores them.

`auths` maps a server ("https://index.docker.io/v1/" for Docker Hub, else host[:port]) to
{"auth": base64("user:password")}; requests carry them in X-Registry-Auth (base64url JSON).
"""

from __future__ import annotations

import base64
import json
import os

DOCKER_HUB = "https://index.docker.io/v1/"


def config_path() -> str:
    root = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    return os.path.join(root, "config.json")


def load_config(path: str | None = None) -> dict:
    try:
        with open(path or config_path(), encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return {}


def save_config(config: dict, path: str | None = None) -> None:
    """Write atomically with mode 0600, as docker does."""
    path = path or config_path()
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(config, handle, indent="\t")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def registry_of(reference: str) -> str:
    """The config key for a reference's registry: Docker Hub unless the first part looks like a host."""
    first, sep, _ = reference.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first
    return DOCKER_HUB


def normalize_server(server: str | None) -> str:
    """What `login SERVER` stores under: scheme and path dropped except for Docker Hub."""
    if not server or server in ("docker.io", "index.docker.io", "registry-1.docker.io"):
        return DOCKER_HUB
    for prefix in ("https://", "http://"):
        server = server.removeprefix(prefix)
    server = server.split("/", 1)[0]
    return DOCKER_HUB if server in ("docker.io", "index.docker.io") else server


def lookup(server: str, config: dict | None = None) -> dict | None:
    """{'username', 'password', 'serveraddress'} for a server, or None."""
    entry = (config if config is not None else load_config()).get("auths", {}).get(server)
    if not entry or not entry.get("auth"):
        return None
    user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
    return {"username": user, "password": password, "serveraddress": server}


def store(server: str, username: str, password: str, path: str | None = None) -> None:
    config = load_config(path)
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    config.setdefault("auths", {})[server] = {"auth": token}
    save_config(config, path)


def erase(server: str, path: str | None = None) -> bool:
    """Forget a server's credentials; False when there were none."""
    config = load_config(path)
    if server not in config.get("auths", {}):
        return False
    del config["auths"][server]
    save_config(config, path)
    return True


def auth_header(reference: str) -> dict[str, str]:
    """X-Registry-Auth for a reference's registry (empty credentials when none are stored)."""
    creds = lookup(registry_of(reference)) or {}
    payload = json.dumps(creds, separators=(",", ":")).encode()
    return {"X-Registry-Auth": base64.urlsafe_b64encode(payload).decode()}

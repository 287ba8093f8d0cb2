"""Registry configuration: a frozen dataclass, read from a TOML file (`--config FILE`).

[http]
read_timeout = 60            # seconds a client may stay silent mid-request before it is cut off
max_connections = 1024
tls_certificate = "/path/cert.pem"   # TLS when both are given
tls_key = "/path/key.pem"

[storage]
max_upload_size = 34359738368        # bytes per upload; a client that sends more is cut off
fsync = false                        # fsync uploaded blobs before they become visible (links,
                                     # tags and manifests are always fsynced)

[auth]
anonymous = "read-write"     # "read-write", "read-only" or "none"
htpasswd = "/path/htpasswd"  # bcrypt entries (htpasswd -B)
token = false                # serve bearer tokens from /token and require them
token_secret = ""            # HMAC key for tokens; random per process when empty
token_ttl = 300
service = "dockyard-registry"

[proxy]
remote_url = "http://host:port"      # pull-through cache of that registry
username = ""
password = ""
tag_ttl = 300                        # seconds before a cached tag is checked upstream again
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path

from dockyard.errors import InvalidArgument

ANONYMOUS_MODES = ("read-write", "read-only", "none")


@dataclass(frozen=True, slots=True)
class Config:
    """Everything `serve()` needs besides the address and the storage directory."""

    read_timeout: float = 60.0
    max_connections: int = 1024
    tls_certificate: str | None = None
    tls_key: str | None = None
    max_upload_size: int = 32 * 1024**3
    fsync: bool = False
    anonymous: str = "read-write"
    htpasswd: str | None = None
    token: bool = False
    token_secret: str = ""
    token_ttl: int = 300
    service: str = "dockyard-registry"
    proxy_remote_url: str | None = None
    proxy_username: str = ""
    proxy_password: str = ""
    proxy_tag_ttl: float = 300.0

    def __post_init__(self) -> None:
        if self.anonymous not in ANONYMOUS_MODES:
            raise InvalidArgument(f"auth.anonymous must be one of {', '.join(ANONYMOUS_MODES)}")
        if bool(self.tls_certificate) != bool(self.tls_key):
            raise InvalidArgument("http.tls_certificate and http.tls_key go together")
        if self.token and not self.htpasswd and self.anonymous == "none":
            raise InvalidArgument("auth.token needs auth.htpasswd or anonymous access")
        if self.max_upload_size <= 0 or self.read_timeout <= 0 or self.max_connections <= 0:
            raise InvalidArgument("limits must be positive")


_SECTIONS = {"http": "", "storage": "", "auth": "", "proxy": "proxy_"}


def config_from_dict(doc: dict) -> Config:
    """Flatten the TOML sections into a Config. Raises InvalidArgument on unknown keys or bad values."""
    known = {f.name: f for f in fields(Config)}
    values: dict[str, object] = {}
    for section, body in doc.items():
        if section not in _SECTIONS or not isinstance(body, dict):
            raise InvalidArgument(f"unknown config section: {section}")
        for key, value in body.items():
            name = _SECTIONS[section] + key
            if name not in known:
                raise InvalidArgument(f"unknown config key: {section}.{key}")
            values[name] = value
    try:
        return replace(Config(), **values)
    except TypeError as exc:
        raise InvalidArgument(f"invalid config: {exc}") from None


def load_config(path: str | Path | None) -> Config:
    """Read a TOML config file; the defaults when `path` is None."""
    if path is None:
        return Config()
    try:
        with open(path, "rb") as src:
            return config_from_dict(tomllib.load(src))
    except OSError as exc:
        raise InvalidArgument(f"cannot read config {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidArgument(f"invalid config {path}: {exc}") from None

"""Registry configuration: a frozen dataclass, read from a TOML file (`--config FILE`).

[http]
read_timeout = 60            # seconds a client may stay silent mid-request before it is cut off
header_timeout = 10          # seconds from a request's first byte to the end of its headers
idle_timeout = 60            # seconds a kept-alive connection may wait for its next request
body_grace = 10              # seconds a body may take before `body_min_rate` applies
body_min_rate = 16384        # bytes/s a request body, or a blob sent, must average after the grace
max_connections = 1024
workers = 4                  # requests without a body handled at once, the rest queue in order (0: no limit)
tls_certificate = "/path/cert.pem"   # TLS when both are given
tls_key = "/path/key.pem"

[storage]
max_upload_size = 34359738368        # bytes per upload; a client that sends more is cut off
fsync = false
max_uploads = 1024                   # upload sessions open at once (429 TOOMANYREQUESTS past it)
max_uploads_per_client = 64          # ... per client address
upload_ttl = 3600                    # seconds an untouched upload session lives

[auth]
anonymous = "none"           # "read-write", "read-only" or "none"; with htpasswd or token
                             # it defaults to "none" and may be "read-only" at most; without
                             # either it defaults to "read-write" (an open registry)
htpasswd = "/path/htpasswd"  # bcrypt entries (htpasswd -B)
token = false                # serve bearer tokens from /token and require them
token_secret = ""            # HMAC key for tokens; random per process when empty
token_ttl = 300
service = "dockyard-registry"

[auth.groups]                # group = [users]; used by access rules
dev = ["alice", "bob"]

[[auth.access]]              # per-repository rules (registry/access.py); with none, a
repository = "team/**"       # signed-in user may pull, push and delete everywhere;
actions = ["pull", "push"]   # with some, a user has the union of the rules that match
groups = ["dev"]             # `*` in a pattern stays within a path component, `**` does not

[[auth.access]]
repository = "*"
actions = ["pull"]
users = ["*"]                # every signed-in user

[proxy]
remote_url = "http://host:port"      # pull-through cache of that registry
username = ""
password = ""
tag_ttl = 300                        # seconds before a cached tag is checked upstream again
token_hosts = ["auth.example.com"]   # token realms on other hosts trusted with the credentials
                                     # (over https only); the upstream's own host always is
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from dockyard.errors import InvalidArgument
from dockyard.registry.access import AccessRule, parse_groups, parse_rules

ANONYMOUS_MODES = ("read-write", "read-only", "none")


@dataclass(frozen=True, slots=True)
class Config:
    """Everything `serve()` needs besides the address and the storage directory."""

    read_timeout: float = 60.0
    header_timeout: float = 10.0
    idle_timeout: float = 60.0
    body_grace: float = 10.0
    body_min_rate: int = 16 * 1024
    max_connections: int = 1024
    workers: int = 4
    tls_certificate: str | None = None
    tls_key: str | None = None
    max_upload_size: int = 32 * 1024**3
    fsync: bool = False
    max_uploads: int = 1024
    max_uploads_per_client: int = 64
    upload_ttl: float = 3600.0
    anonymous: str | None = None
    htpasswd: str | None = None
    token: bool = False
    token_secret: str = ""
    token_ttl: int = 300
    service: str = "dockyard-registry"
    groups: Mapping[str, frozenset[str]] = field(default_factory=dict)
    access: tuple[AccessRule, ...] = ()
    proxy_remote_url: str | None = None
    proxy_username: str = ""
    proxy_password: str = ""
    proxy_tag_ttl: float = 300.0
    proxy_token_hosts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.anonymous is not None and self.anonymous not in ANONYMOUS_MODES:
            raise InvalidArgument(f"auth.anonymous must be one of {', '.join(ANONYMOUS_MODES)}")
        if self.secured and self.anonymous == "read-write":
            raise InvalidArgument("auth.anonymous may be read-only at most when htpasswd or token is configured")
        if bool(self.tls_certificate) != bool(self.tls_key):
            raise InvalidArgument("http.tls_certificate and http.tls_key go together")
        if self.token and not self.htpasswd and self.anonymous_access == "none":
            raise InvalidArgument("auth.token needs auth.htpasswd or anonymous access")
        if self.access and not self.htpasswd:
            raise InvalidArgument("auth.access rules need auth.htpasswd (they name users)")
        limits = (self.max_upload_size, self.read_timeout, self.header_timeout, self.idle_timeout, self.body_grace)
        counts = (self.max_connections, self.max_uploads, self.max_uploads_per_client, self.upload_ttl)
        if min(limits) <= 0 or min(counts) <= 0 or min(self.body_min_rate, self.workers) < 0:
            raise InvalidArgument("limits must be positive")

    @property
    def secured(self) -> bool:
        """Whether credentials are configured (htpasswd or tokens)."""
        return bool(self.htpasswd) or self.token

    @property
    def anonymous_access(self) -> str:
        """The anonymous mode in force: as configured, else "none" when secured and "read-write" when open."""
        if self.anonymous is not None:
            return self.anonymous
        return "none" if self.secured else "read-write"


def _hosts(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise InvalidArgument("proxy.token_hosts must be a list of host names")
    return tuple(value)


_SECTIONS = {"http": "", "storage": "", "auth": "", "proxy": "proxy_"}
_PARSERS = {"groups": parse_groups, "access": parse_rules, "proxy_token_hosts": _hosts}


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
            values[name] = _PARSERS[name](value) if name in _PARSERS else value
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

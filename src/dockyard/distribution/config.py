"""Registry settings from dockerd's daemon.json, and the endpoints they give each registry.

    key                         meaning                                              default
    registry-mirrors            mirrors of Docker Hub, tried in order                []
    registry-mirrors-map        {registry: [mirror, ...]} for any other registry     {}
                                (dockyard's extension; docs/decisions/0008-distribution.md)
    insecure-registries         hosts ("host:port") or CIDRs reached over plain HTTP []
                                (loopback 127.0.0.0/8, ::1 and localhost always are;
                                names are looked up in DNS only when CIDRs are given)
    max-concurrent-downloads    parallel layer downloads per pull                    3
    max-concurrent-uploads      parallel layer uploads per push                      5

Pulls try each mirror, then the registry itself; pushes go to the registry only. Docker
Hub (`docker.io`) is reached at registry-1.docker.io.

Extra TLS material per registry host lives as in docker's /etc/docker/certs.d:
`<certs_dir>/<host[:port]>/*.crt` are CAs to trust, `<name>.cert` + `<name>.key` a client
certificate.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dockyard.distribution.transport import Tls
from dockyard.errors import InvalidArgument

DOCKER_HUB = "docker.io"
DOCKER_HUB_ENDPOINT = "registry-1.docker.io"
DEFAULT_CONFIG_FILE = Path("/etc/dockyard/daemon.json")
DEFAULT_CERTS_DIR = Path("/etc/dockyard/certs.d")
LOOPBACK = ("127.0.0.0/8", "::1/128")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One base URL to talk to a registry through (the registry itself or a mirror)."""

    url: str
    registry: str
    mirror: bool = False
    tls: Tls = Tls()

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc


@dataclass(frozen=True, slots=True)
class RegistryConfig:
    """The registry part of daemon.json, validated."""

    mirrors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    insecure_registries: tuple[str, ...] = ()
    max_concurrent_downloads: int = 3
    max_concurrent_uploads: int = 5
    certs_dir: Path = DEFAULT_CERTS_DIR

    @classmethod
    def from_daemon_json(cls, data: Mapping[str, Any], certs_dir: Path = DEFAULT_CERTS_DIR) -> RegistryConfig:
        """Raises InvalidArgument for a malformed mirror, registry or limit."""
        mirrors: dict[str, tuple[str, ...]] = {}
        if data.get("registry-mirrors"):
            mirrors[DOCKER_HUB] = tuple(_mirror_url(m) for m in data["registry-mirrors"])
        for registry, urls in (data.get("registry-mirrors-map") or {}).items():
            name = DOCKER_HUB if registry in ("index.docker.io", DOCKER_HUB_ENDPOINT) else registry
            mirrors[name] = tuple(_mirror_url(m) for m in urls)
        insecure = tuple(_insecure_entry(e) for e in data.get("insecure-registries") or ())
        return cls(
            mirrors,
            insecure,
            _limit(data, "max-concurrent-downloads", 3),
            _limit(data, "max-concurrent-uploads", 5),
            certs_dir,
        )

    @classmethod
    def load(cls, path: Path = DEFAULT_CONFIG_FILE) -> RegistryConfig:
        """Read daemon.json; a missing file means the defaults."""
        try:
            text = path.read_text()
        except FileNotFoundError:
            return cls()
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InvalidArgument(f"unable to configure the Docker daemon with file {path}: {exc}") from None
        if not isinstance(data, dict):
            raise InvalidArgument(f"unable to configure the Docker daemon with file {path}: not an object")
        return cls.from_daemon_json(data)

    def is_insecure(self, host: str, resolve: Callable[[str], list[str]] | None = None) -> bool:
        """True when `host` ("name[:port]") may be reached over plain HTTP or unverified TLS."""
        name = urlsplit("//" + host).hostname or host
        if host in self.insecure_registries or name == "localhost":
            return True
        cidrs = [e for e in self.insecure_registries if "/" in e]
        networks = [ipaddress.ip_network(n, strict=False) for n in (*LOOPBACK, *cidrs)]
        for address in _addresses(name, resolve or _lookup, lookup=bool(cidrs)):
            if any(address in net for net in networks if net.version == address.version):
                return True
        return False

    def endpoints(self, registry: str, push: bool = False) -> list[Endpoint]:
        """Where to reach `registry`, in the order to try: mirrors (pulls only), then itself."""
        out = [] if push else [self._endpoint(url, registry, mirror=True) for url in self.mirrors.get(registry, ())]
        host = DOCKER_HUB_ENDPOINT if registry == DOCKER_HUB else registry
        if self.is_insecure(host):
            out += [self._endpoint(f"https://{host}", registry), Endpoint(f"http://{host}", registry)]
        else:
            out.append(self._endpoint(f"https://{host}", registry))
        return out

    def _endpoint(self, url: str, registry: str, mirror: bool = False) -> Endpoint:
        host = urlsplit(url).netloc
        return Endpoint(url, registry, mirror, self.tls(host))

    def tls(self, host: str) -> Tls:
        """TLS settings for a host: verification unless insecure, plus its certs.d files."""
        directory = self.certs_dir / host
        files = sorted(directory.iterdir()) if directory.is_dir() else []
        cas = tuple(str(f) for f in files if f.suffix == ".crt")
        pairs = [
            (str(f), str(f.with_suffix(".key")))
            for f in files
            if f.suffix == ".cert" and f.with_suffix(".key").is_file()
        ]
        return Tls(not self.is_insecure(host), cas, pairs[0] if pairs else None)


def _addresses(
    name: str, resolve: Callable[[str], list[str]], lookup: bool
) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The name's own address, or (only when CIDRs are configured) what DNS says it is."""
    try:
        return [ipaddress.ip_address(name.strip("[]"))]
    except ValueError:
        return [ipaddress.ip_address(a) for a in resolve(name)] if lookup else []


def _lookup(name: str) -> list[str]:
    """The addresses a name resolves to; none when it does not resolve (as docker, no error)."""
    try:
        return list({info[4][0] for info in socket.getaddrinfo(name, None)})
    except (OSError, UnicodeError):
        return []


def _mirror_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/") or parts.query:
        raise InvalidArgument(f'invalid mirror: "{url}" is not a valid URI')
    return f"{parts.scheme}://{parts.netloc}"


def _insecure_entry(entry: str) -> str:
    if "://" in entry:
        raise InvalidArgument(f"insecure registry {entry} should not contain '://'")
    if "/" in entry:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise InvalidArgument(f"insecure registry {entry} is not a valid CIDR or host") from None
    return entry


def _limit(data: Mapping[str, Any], key: str, default: int) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidArgument(f"invalid {key} value: {value!r}, must be a positive integer")
    return value

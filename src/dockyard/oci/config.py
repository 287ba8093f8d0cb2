"""The image config JSON (OCI image-spec config.md, Docker's `container.image.v1`).

`ImageConfig.from_json(raw)` keeps `raw`: an image's ID is the sha256 of those exact bytes,
so they are never re-serialised once parsed. Keys dockyard does not model are kept in
`extra` so a rewrite (build, commit) does not drop them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from dockyard.errors import InvalidArgument
from dockyard.oci.digest import Digest
from dockyard.oci.platform import Platform


@dataclass(frozen=True, slots=True)
class Healthcheck:
    """HEALTHCHECK: the test command and its timings in nanoseconds."""

    test: tuple[str, ...] = ()
    interval: int = 0
    timeout: int = 0
    start_period: int = 0
    start_interval: int = 0
    retries: int = 0

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Healthcheck:
        return cls(
            tuple(data.get("Test") or ()),
            int(data.get("Interval") or 0),
            int(data.get("Timeout") or 0),
            int(data.get("StartPeriod") or 0),
            int(data.get("StartInterval") or 0),
            int(data.get("Retries") or 0),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Test": list(self.test)}
        for key, value in (
            ("Interval", self.interval),
            ("Timeout", self.timeout),
            ("StartPeriod", self.start_period),
            ("StartInterval", self.start_interval),
            ("Retries", self.retries),
        ):
            if value:
                out[key] = value
        return out


_LIST_KEYS = {"Env": "env", "Cmd": "cmd", "Entrypoint": "entrypoint", "Shell": "shell", "OnBuild": "on_build"}
_TEXT_KEYS = {"User": "user", "WorkingDir": "working_dir", "StopSignal": "stop_signal"}
_SET_KEYS = {"ExposedPorts": "exposed_ports", "Volumes": "volumes"}


@dataclass(frozen=True, slots=True)
class ContainerConfig:
    """The `config` object: defaults a container of this image starts with.

    `cmd`/`entrypoint` are None when unset (which differs from an explicit empty list).
    """

    user: str = ""
    env: tuple[str, ...] = ()
    cmd: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    working_dir: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    exposed_ports: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    stop_signal: str = ""
    healthcheck: Healthcheck | None = None
    shell: tuple[str, ...] | None = None
    on_build: tuple[str, ...] | None = None
    args_escaped: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ContainerConfig:
        values: dict[str, Any] = {}
        for key, attr in _LIST_KEYS.items():
            if data.get(key) is not None:
                raw = data[key]
                values[attr] = (raw,) if isinstance(raw, str) else tuple(raw)
        for key, attr in _TEXT_KEYS.items():
            values[attr] = str(data.get(key) or "")
        for key, attr in _SET_KEYS.items():
            values[attr] = tuple(data.get(key) or {})
        health = data.get("Healthcheck")
        return cls(
            labels=dict(data.get("Labels") or {}),
            healthcheck=Healthcheck.from_json(health) if health else None,
            args_escaped=bool(data.get("ArgsEscaped", False)),
            **values,
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, attr in _TEXT_KEYS.items():
            if getattr(self, attr):
                out[key] = getattr(self, attr)
        for key, attr in _SET_KEYS.items():
            if getattr(self, attr):
                out[key] = {name: {} for name in getattr(self, attr)}
        for key, attr in _LIST_KEYS.items():
            if getattr(self, attr) is not None and (key != "Env" or self.env):
                out[key] = list(getattr(self, attr))
        if self.labels:
            out["Labels"] = dict(self.labels)
        if self.healthcheck is not None:
            out["Healthcheck"] = self.healthcheck.to_json()
        if self.args_escaped:
            out["ArgsEscaped"] = True
        return out


@dataclass(frozen=True, slots=True)
class History:
    """One step of how the image was built; `empty_layer` steps added no layer."""

    created: str = ""
    created_by: str = ""
    author: str = ""
    comment: str = ""
    empty_layer: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> History:
        return cls(
            str(data.get("created") or ""),
            str(data.get("created_by") or ""),
            str(data.get("author") or ""),
            str(data.get("comment") or ""),
            bool(data.get("empty_layer", False)),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("created", "created_by", "author", "comment"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.empty_layer:
            out["empty_layer"] = True
        return out


_MODELLED = {
    "architecture",
    "os",
    "os.version",
    "os.features",
    "variant",
    "config",
    "rootfs",
    "history",
    "created",
    "author",
}


@dataclass(frozen=True, slots=True)
class ImageConfig:
    """An image's config blob: platform, container defaults, layer diff IDs and history."""

    architecture: str
    os: str
    config: ContainerConfig = field(default_factory=ContainerConfig)
    diff_ids: tuple[Digest, ...] = ()
    history: tuple[History, ...] = ()
    created: str = ""
    author: str = ""
    variant: str = ""
    os_version: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    raw: bytes = b""

    @property
    def platform(self) -> Platform:
        return Platform(self.os, self.architecture, self.variant, self.os_version)

    @property
    def digest(self) -> Digest:
        """The image ID: sha256 of the config bytes."""
        return Digest.of(self.to_bytes())

    @classmethod
    def from_json(cls, raw: bytes) -> ImageConfig:
        """Raises InvalidArgument for bytes that are not an image config."""
        try:
            data = json.loads(raw)
            rootfs = data.get("rootfs") or {}
            return cls(
                architecture=str(data.get("architecture") or ""),
                os=str(data.get("os") or ""),
                config=ContainerConfig.from_json(data.get("config") or {}),
                diff_ids=tuple(Digest(d) for d in rootfs.get("diff_ids") or ()),
                history=tuple(History.from_json(h) for h in data.get("history") or ()),
                created=str(data.get("created") or ""),
                author=str(data.get("author") or ""),
                variant=str(data.get("variant") or ""),
                os_version=str(data.get("os.version") or ""),
                extra={k: v for k, v in data.items() if k not in _MODELLED},
                raw=raw,
            )
        except (ValueError, TypeError, AttributeError, InvalidArgument) as exc:
            raise InvalidArgument(f"invalid image config: {exc}") from None

    def evolve(self, **changes: Any) -> ImageConfig:
        """A copy with some fields changed; drops `raw` so the bytes are serialised afresh."""
        return replace(self, raw=b"", **changes)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.extra)
        out.update({"architecture": self.architecture, "os": self.os})
        for key, value in (
            ("variant", self.variant),
            ("os.version", self.os_version),
            ("created", self.created),
            ("author", self.author),
        ):
            if value:
                out[key] = value
        out["config"] = self.config.to_json()
        out["rootfs"] = {"type": "layers", "diff_ids": [str(d) for d in self.diff_ids]}
        if self.history:
            out["history"] = [h.to_json() for h in self.history]
        return out

    def to_bytes(self) -> bytes:
        """The raw bytes when parsed, else compact JSON with sorted keys (as moby writes it)."""
        return self.raw or json.dumps(self.to_json(), separators=(",", ":"), sort_keys=True).encode()

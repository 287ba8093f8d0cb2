"""Platforms (`linux/amd64`, `linux/arm64/v8`): parsing, normalising, matching.

Matching follows containerd's `platforms` package: a host matches its own platform first,
then the ones it can also run, best first:

    host            also runs, in order of preference
    amd64/vN        amd64/v(N-1) ... amd64, then 386
    arm/vN          arm/v(N-1) ... arm/v5
    arm64           arm/v8, arm/v7, arm/v6, arm/v5
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dockyard.errors import InvalidArgument

_ARCH_ALIASES = {
    "x86_64": "amd64",
    "x86-64": "amd64",
    "amd64": "amd64",
    "i386": "386",
    "i686": "386",
    "386": "386",
    "aarch64": "arm64",
    "arm64": "arm64",
    "armhf": "arm",
    "armel": "arm",
    "arm": "arm",
}
_KNOWN_OS = {
    "linux",
    "windows",
    "darwin",
    "freebsd",
    "netbsd",
    "openbsd",
    "solaris",
    "illumos",
    "android",
    "ios",
    "plan9",
    "aix",
    "dragonfly",
    "js",
    "wasip1",
}


@dataclass(frozen=True, slots=True)
class Platform:
    """An OS, a CPU architecture and its variant, as in an OCI index entry."""

    os: str
    architecture: str
    variant: str = ""
    os_version: str = ""
    os_features: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        parts = [self.os, self.architecture] + ([self.variant] if self.variant else [])
        return "/".join(parts)

    def normalized(self) -> Platform:
        """The canonical spelling (`aarch64` -> `arm64`, `armhf` -> `arm/v7`, `arm64/v8` -> `arm64`)."""
        arch, variant = _normalize_arch(self.architecture.lower(), self.variant.lower())
        return Platform(self.os.lower(), arch, variant, self.os_version, self.os_features)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Platform:
        return cls(
            os=str(data.get("os", "")),
            architecture=str(data.get("architecture", "")),
            variant=str(data.get("variant", "")),
            os_version=str(data.get("os.version", "")),
            os_features=tuple(data.get("os.features") or ()),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"architecture": self.architecture, "os": self.os}
        if self.os_version:
            out["os.version"] = self.os_version
        if self.os_features:
            out["os.features"] = list(self.os_features)
        if self.variant:
            out["variant"] = self.variant
        return out


def _normalize_arch(arch: str, variant: str) -> tuple[str, str]:
    """containerd's normalizeArch: one spelling per architecture and variant."""
    if arch in ("armhf", "armel"):
        return "arm", "v7" if arch == "armhf" else "v6"
    arch = _ARCH_ALIASES.get(arch, arch)
    if arch == "amd64" and variant == "v1":
        variant = ""
    elif arch == "arm64" and variant in ("8", "v8", "v8.0"):
        variant = ""
    elif arch == "arm":
        if variant in ("", "7"):
            variant = "v7"
        elif variant in ("5", "6", "8"):
            variant = "v" + variant
    return arch, variant


def parse_platform(spec: str) -> Platform:
    """Parse `os[/arch[/variant]]` or a bare `arch`, as `--platform` takes it.

    Raises:
        InvalidArgument: the specifier has an empty or extra part.
    """
    parts = spec.strip().split("/")
    if any(not p for p in parts) or len(parts) > 3:
        raise InvalidArgument(f'"{spec}": unknown operating system or architecture: invalid argument')
    host = host_platform()
    if len(parts) == 1:
        if parts[0].lower() in _KNOWN_OS:
            return Platform(parts[0], host.architecture, host.variant).normalized()
        return Platform(host.os, parts[0]).normalized()
    variant = parts[2] if len(parts) == 3 else ""
    return Platform(parts[0], parts[1], variant).normalized()


def host_platform(machine: str | None = None) -> Platform:
    """The platform of this host (`linux/amd64`, `linux/arm64`, `linux/arm/v7`)."""
    machine = machine or os.uname().machine
    variant = ""
    if machine.startswith("armv"):
        variant, machine = "v" + machine[4], "arm"
    return Platform("linux", machine, variant).normalized()


def _compatible(platform: Platform) -> list[Platform]:
    """The platforms a host of this platform can run, best first (containerd platformVector)."""
    p = platform.normalized()
    vector = [p]
    number = p.variant[1:] if p.variant.startswith("v") else ""
    if p.architecture == "amd64":
        if number.isdigit():
            vector += [Platform(p.os, "amd64", f"v{n}" if n > 1 else "") for n in range(int(number) - 1, 0, -1)]
        vector.append(Platform(p.os, "386"))
    elif p.architecture == "arm" and number.isdigit():
        vector += [Platform(p.os, "arm", f"v{n}") for n in range(int(number) - 1, 4, -1)]
    elif p.architecture == "arm64":
        vector += _compatible(Platform(p.os, "arm", p.variant or "v8"))
    return vector


@dataclass(frozen=True, slots=True)
class PlatformMatcher:
    """Says whether a platform runs on the wanted one, and ranks the ones that do."""

    wanted: Platform

    def rank(self, platform: Platform) -> int | None:
        """0 for an exact match, higher for a less preferred one, None for no match."""
        candidate = platform.normalized()
        key = (candidate.os, candidate.architecture, candidate.variant)
        for position, p in enumerate(_compatible(self.wanted)):
            if key == (p.os, p.architecture, p.variant):
                return position
        return None

    def matches(self, platform: Platform) -> bool:
        return self.rank(platform) is not None

    def best(self, platforms: Iterable[Platform]) -> int | None:
        """Position of the best matching platform in the sequence (first wins ties), or None."""
        ranked = [(r, i) for i, p in enumerate(platforms) if (r := self.rank(p)) is not None]
        return min(ranked)[1] if ranked else None

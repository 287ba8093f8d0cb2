"""`docker import --change` / `docker commit --change`: Dockerfile instructions applied to a config.

Only the instructions that change metadata are allowed, as in Docker: CMD, ENTRYPOINT, ENV,
EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR.
"""

from __future__ import annotations

import json
import shlex

from dockyard.errors import InvalidArgument

ALLOWED = ("CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "ONBUILD", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR")


def apply_changes(config: dict, changes: list[str]) -> dict:
    """Return a copy of the container config (`Config` section) with each change applied."""
    result = dict(config)
    for change in changes:
        instruction, _, rest = change.strip().partition(" ")
        keyword, rest = instruction.upper(), rest.strip()
        if keyword not in ALLOWED:
            raise InvalidArgument(f"{instruction} is not a valid change command")
        _APPLY[keyword](result, rest)
    return result


def _command(rest: str) -> list[str]:
    if rest.startswith("["):
        try:
            value = json.loads(rest)
        except ValueError:
            value = None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
    return ["/bin/sh", "-c", rest]


def _pairs(rest: str) -> list[tuple[str, str]]:
    words = shlex.split(rest)
    if len(words) >= 1 and "=" not in words[0]:
        key, _, value = rest.partition(" ")
        return [(key, value.strip())]
    pairs = []
    for word in words:
        key, sep, value = word.partition("=")
        if not sep:
            raise InvalidArgument(f"invalid key=value pair: {word}")
        pairs.append((key, value))
    return pairs


def _env(config: dict, rest: str) -> None:
    env = [e for e in config.get("Env") or []]
    for key, value in _pairs(rest):
        env = [e for e in env if e.split("=", 1)[0] != key] + [f"{key}={value}"]
    config["Env"] = env


def _label(config: dict, rest: str) -> None:
    config["Labels"] = {**(config.get("Labels") or {}), **dict(_pairs(rest))}


def _expose(config: dict, rest: str) -> None:
    ports = dict(config.get("ExposedPorts") or {})
    for port in rest.split():
        ports[port if "/" in port else f"{port}/tcp"] = {}
    config["ExposedPorts"] = ports


def _volume(config: dict, rest: str) -> None:
    paths = json.loads(rest) if rest.startswith("[") else rest.split()
    config["Volumes"] = {**(config.get("Volumes") or {}), **{p: {} for p in paths}}


_APPLY = {
    "CMD": lambda c, r: c.__setitem__("Cmd", _command(r)),
    "ENTRYPOINT": lambda c, r: c.__setitem__("Entrypoint", _command(r)),
    "ENV": _env,
    "EXPOSE": _expose,
    "LABEL": _label,
    "ONBUILD": lambda c, r: c.__setitem__("OnBuild", [*(c.get("OnBuild") or []), r]),
    "STOPSIGNAL": lambda c, r: c.__setitem__("StopSignal", r),
    "USER": lambda c, r: c.__setitem__("User", r),
    "VOLUME": _volume,
    "WORKDIR": lambda c, r: c.__setitem__("WorkingDir", r),
}

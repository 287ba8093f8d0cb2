"""The image config document as a build changes it, step by step (pure).

Each step takes the parent's document and returns a new one: the instruction's change to
`config`, a new `created` time and one more `history` entry (`empty_layer` unless the step
adds a layer, whose diff_id the worker appends to `rootfs.diff_ids`).
"""

from __future__ import annotations

import copy
import platform as host_platform
from datetime import UTC, datetime

NOP = "/bin/sh -c #(nop) "
_ARCHITECTURES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le", "s390x": "s390x"}


def host_architecture() -> str:
    machine = host_platform.machine()
    return _ARCHITECTURES.get(machine, machine)


def timestamp(epoch: int | None) -> str:
    """RFC 3339 in UTC: the SOURCE_DATE_EPOCH when given, else now."""
    when = datetime.fromtimestamp(epoch, UTC) if epoch is not None else datetime.now(UTC)
    text = when.isoformat().replace("+00:00", "Z")
    return text if epoch is None else when.strftime("%Y-%m-%dT%H:%M:%SZ")


def scratch_document() -> dict:
    """The empty image `FROM scratch` starts from."""
    return {
        "architecture": host_architecture(),
        "os": "linux",
        "config": {"Env": None, "Cmd": None},
        "rootfs": {"type": "layers", "diff_ids": []},
        "history": [],
    }


def child_document(parent: dict, created: str, created_by: str, empty_layer: bool) -> dict:
    """A copy of `parent` with the time and one history entry of a new step."""
    document = copy.deepcopy(parent)
    document.pop("container", None)
    document.pop("container_config", None)
    document.pop("parent", None)  # metadata, not config (an image committed by dockyard before 2026-12-06)
    document["created"] = created
    entry = {"created": created, "created_by": created_by}
    if empty_layer:
        entry["empty_layer"] = True
    document["history"] = [*(document.get("history") or []), entry]
    document.setdefault("config", {})
    document.setdefault("rootfs", {"type": "layers", "diff_ids": []})
    return document


def set_env(config: dict, key: str, value: str) -> None:
    env = [e for e in config.get("Env") or [] if e.split("=", 1)[0] != key]
    config["Env"] = [*env, f"{key}={value}"]


def env_map(config: dict) -> dict[str, str]:
    """The config's Env as a mapping (later entries win)."""
    return dict(e.split("=", 1) if "=" in e else (e, "") for e in config.get("Env") or [])


def clear_onbuild(document: dict) -> list[str]:
    """Take the base image's ONBUILD triggers out of the document; return them."""
    config = document.setdefault("config", {})
    triggers = list(config.get("OnBuild") or [])
    config["OnBuild"] = None
    return triggers

"""`-v`, `--mount` and `--tmpfs` values into the API's Binds / Mounts / Volumes / Tmpfs (pure)."""

from __future__ import annotations

from dockyard.errors import InvalidArgument
from dockyard.units import ram_in_bytes

_TRUE = ("", "1", "true", "yes")
_FALSE = ("0", "false", "no")


def parse_volume(spec: str) -> tuple[str | None, str | None]:
    """A `-v` value -> (bind string for HostConfig.Binds, or anonymous volume path for Config.Volumes)."""
    parts = spec.split(":")
    if not spec or len(parts) > 3 or any(not part for part in parts):
        raise InvalidArgument(
            f"invalid spec: {spec}: empty section between colons"
            if "::" in spec
            else f"invalid volume specification: '{spec}'"
        )
    if len(parts) == 1:
        if not spec.startswith("/"):
            raise InvalidArgument(
                f"invalid volume specification: '{spec}': invalid mount config for type \"volume\": invalid mount path: '{spec}' mount path must be absolute"
            )
        return None, spec
    if not parts[1].startswith("/"):
        raise InvalidArgument(
            f"invalid volume specification: '{spec}': invalid mount config: invalid mount path: '{parts[1]}' mount path must be absolute"
        )
    return spec, None


def _bool(key: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise InvalidArgument(f"invalid value for {key}: {value}")


def parse_mount(spec: str) -> dict:
    """A `--mount type=..,source=..,target=..` value -> one HostConfig.Mounts entry."""
    import csv  # only --mount needs it; kept off the start-up path

    fields = next(csv.reader([spec])) if spec else []
    mount: dict = {"Type": "volume"}
    options: dict[str, dict] = {}
    for field in fields:
        key, has_value, value = field.partition("=")
        key = key.strip().lower()
        _apply_mount_field(mount, options, key, value if has_value else "", spec)
    if not mount.get("Target"):
        raise InvalidArgument("target is required")
    kind = mount["Type"]
    for section, owner in (("BindOptions", "bind"), ("VolumeOptions", "volume"), ("TmpfsOptions", "tmpfs")):
        if section in options:
            if owner != kind:
                raise InvalidArgument(f"cannot mix '{section}' options with type '{kind}'")
            mount[section] = options[section]
    if kind == "bind" and not mount.get("Source"):
        raise InvalidArgument("source is required when specifying bind mounts")
    _check_recursion(mount)
    return mount


def _check_recursion(mount: dict) -> None:
    """The docker CLI's rules for bind-recursive=writable|readonly."""
    bind = mount.get("BindOptions") or {}
    for key, value in (("ReadOnlyNonRecursive", "writable"), ("ReadOnlyForceRecursive", "readonly")):
        if bind.get(key) and not mount.get("ReadOnly"):
            raise InvalidArgument(f"option 'bind-recursive={value}' requires 'readonly' to be specified in conjunction")
    if bind.get("ReadOnlyForceRecursive") and bind.get("Propagation") != "rprivate":
        raise InvalidArgument(
            "option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction"
        )


def _apply_mount_field(mount: dict, options: dict, key: str, value: str, spec: str) -> None:
    if key == "type":
        if value not in ("bind", "volume", "tmpfs", "npipe", "cluster", "image"):
            raise InvalidArgument(f"invalid mount type: {value}")
        mount["Type"] = value
    elif key in ("source", "src"):
        mount["Source"] = value
    elif key in ("target", "dst", "destination"):
        mount["Target"] = value
    elif key in ("readonly", "ro"):
        mount["ReadOnly"] = _bool(key, value)
    elif key == "consistency":
        mount["Consistency"] = value
    elif key == "bind-propagation":
        options.setdefault("BindOptions", {})["Propagation"] = value
    elif key == "bind-nonrecursive":
        options.setdefault("BindOptions", {})["NonRecursive"] = _bool(key, value)
    elif key == "bind-recursive":
        recursive = {
            "enabled": {},
            "disabled": {"NonRecursive": True},
            "writable": {"ReadOnlyNonRecursive": True},
            "readonly": {"ReadOnlyForceRecursive": True},
        }
        if value not in recursive:
            raise InvalidArgument(
                f"invalid value for {key}: {value} (must be enabled, disabled, writable, or readonly)"
            )
        options.setdefault("BindOptions", {}).update(recursive[value])
    elif key == "volume-subpath":
        options.setdefault("VolumeOptions", {})["Subpath"] = value
    elif key == "volume-nocopy":
        options.setdefault("VolumeOptions", {})["NoCopy"] = _bool(key, value)
    elif key == "volume-driver":
        options.setdefault("VolumeOptions", {}).setdefault("DriverConfig", {})["Name"] = value
    elif key in ("volume-label", "volume-opt"):
        name, _, val = value.partition("=")
        section = options.setdefault("VolumeOptions", {})
        if key == "volume-label":
            section.setdefault("Labels", {})[name] = val
        else:
            section.setdefault("DriverConfig", {}).setdefault("Options", {})[name] = val
    elif key == "tmpfs-size":
        options.setdefault("TmpfsOptions", {})["SizeBytes"] = ram_in_bytes(value)
    elif key == "tmpfs-mode":
        options.setdefault("TmpfsOptions", {})["Mode"] = int(value, 8)
    else:
        raise InvalidArgument(f"unexpected key '{key}' in '{spec}'")


def parse_tmpfs(spec: str) -> tuple[str, str]:
    """A `--tmpfs /path[:options]` value -> (path, options) for HostConfig.Tmpfs."""
    path, _, options = spec.partition(":")
    if not path.startswith("/"):
        raise InvalidArgument(f"invalid tmpfs path: {path}")
    return path, options

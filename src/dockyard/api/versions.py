"""Translate requests from older API versions into the current shapes (pure).

What the spec's version history records for `POST /containers/create`, applied as dockerd's
container router does, so the engine sees one shape whatever version the client speaks:

    < 1.41   HostConfig.CgroupnsMode defaults to "host" (the daemon default before 1.41)
    < 1.42   HostConfig.ConsoleSize and Mounts[].BindOptions.CreateMountpoint are ignored
    < 1.44   Healthcheck.StartInterval and BindOptions.ReadOnlyNonRecursive /
             ReadOnlyForceRecursive are ignored, and read-only binds are read-only
             only at their top (`readonly_recursive` false), as before 1.44
    all      Config.MacAddress is copied to the endpoint of the NetworkMode network;
    >= 1.44  it is deprecated there (a warning), and must agree with that endpoint's
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dockyard.api.routing import at_least
from dockyard.errors import InvalidArgument

MAC_DEPRECATED = (
    "The container-wide MacAddress field is now deprecated. It should be specified in EndpointsConfig instead."
)
_NO_ENDPOINT_MODES = ("host", "none")


@dataclass(frozen=True, slots=True)
class CreateRequest:
    """The three parts of a create body, in the current API's shape, plus warnings to return."""

    config: dict
    host_config: dict
    networking_config: dict | None
    warnings: list[str] = field(default_factory=list)
    readonly_recursive: bool = True  # read-only binds reach the mounts below them (API >= 1.44)


def adapt_create(config: dict, host_config: dict, networking_config: dict | None, api_version: str) -> CreateRequest:
    """Bring a create request sent at `api_version` to the current shape (inputs untouched).

    Raises InvalidArgument when a part is not a JSON object.
    """
    for part, value in (("config", config), ("HostConfig", host_config), ("NetworkingConfig", networking_config or {})):
        if not isinstance(value, dict):
            raise InvalidArgument(f"invalid JSON in request body: {part} must be an object")
    config, host_config, networking_config = _copied(config), _copied(host_config), _copied(networking_config)
    if not at_least(api_version, "1.41"):
        host_config.setdefault("CgroupnsMode", "host")
    if not at_least(api_version, "1.42"):
        host_config.pop("ConsoleSize", None)
        _drop_bind_options(host_config, ("CreateMountpoint",))
    if not at_least(api_version, "1.44"):
        (config.get("Healthcheck") or {}).pop("StartInterval", None)
        _drop_bind_options(host_config, ("ReadOnlyNonRecursive", "ReadOnlyForceRecursive"))
    networking_config, warnings = _move_mac_address(config, host_config, networking_config, api_version)
    return CreateRequest(config, host_config, networking_config, warnings, at_least(api_version, "1.44"))


def _copied(value: Any) -> Any:
    """A copy of decoded JSON (dicts, lists, scalars); copy.deepcopy's memo costs 3x as much."""
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copied(item) for item in value]
    return value


def _drop_bind_options(host_config: dict, names: tuple[str, ...]) -> None:
    for mount in host_config.get("Mounts") or []:
        options = mount.get("BindOptions") if isinstance(mount, dict) else None
        for name in names:
            if isinstance(options, dict):
                options.pop(name, None)


def _move_mac_address(
    config: dict, host_config: dict, networking_config: dict | None, api_version: str
) -> tuple[dict | None, list[str]]:
    mac = config.get("MacAddress")
    mode = host_config.get("NetworkMode") or "bridge"
    if not mac or mode in _NO_ENDPOINT_MODES or mode.startswith("container:"):
        return networking_config, []
    network = "bridge" if mode == "default" else mode
    networking_config = networking_config or {}
    endpoints = networking_config.setdefault("EndpointsConfig", {}) or {}
    networking_config["EndpointsConfig"] = endpoints
    endpoint = endpoints.setdefault(network, {}) or {}
    endpoints[network] = endpoint
    if not at_least(api_version, "1.44"):
        endpoint.setdefault("MacAddress", mac)
        return networking_config, []
    if endpoint.get("MacAddress") and endpoint["MacAddress"] != mac:
        raise InvalidArgument(
            "the container-wide MAC address must match the endpoint-specific "
            "MAC address for the main network, or be left empty"
        )
    endpoint["MacAddress"] = mac
    return networking_config, [MAC_DEPRECATED]

"""Pure rules for a container's configuration: merging with the image, names, environment."""

from __future__ import annotations

import random
import re

from dockyard.errors import InvalidArgument

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_NAME = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
_LEFT = (
    "admiring",
    "brave",
    "clever",
    "dazzling",
    "eager",
    "focused",
    "gallant",
    "happy",
    "jolly",
    "keen",
    "lucid",
    "modest",
    "nifty",
    "optimistic",
    "quirky",
    "relaxed",
    "serene",
    "trusting",
    "upbeat",
    "vibrant",
    "wizardly",
    "youthful",
    "zealous",
)
_RIGHT = (
    "albattani",
    "babbage",
    "curie",
    "darwin",
    "euclid",
    "fermi",
    "galileo",
    "hopper",
    "jennings",
    "kepler",
    "lovelace",
    "meitner",
    "noether",
    "pasteur",
    "ritchie",
    "shannon",
    "turing",
    "volhard",
    "wozniak",
    "yalow",
    "zhukovsky",
)


def validate_name(name: str) -> str:
    """Return the name without its leading slash. Raises InvalidArgument."""
    if not _NAME.match(name):
        raise InvalidArgument(f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
    return name.lstrip("/")


def random_name() -> str:
    return f"{random.choice(_LEFT)}_{random.choice(_RIGHT)}"


def _env_key(entry: str) -> str:
    return entry.split("=", 1)[0]


def merge_env(base: list[str], overrides: list[str]) -> list[str]:
    """Docker's env merge: overrides replace base entries with the same key, order kept."""
    keys = {_env_key(e) for e in overrides}
    return [e for e in base if _env_key(e) not in keys] + list(overrides)


def merge_config(user: dict, image: dict) -> dict:
    """Fill a create request's Config with the image's defaults, as dockerd does.

    Raises InvalidArgument when neither gives a command.
    """
    # Docker's strslice: a JSON string is a one-word command
    user = {**user, **{k: [user[k]] for k in ("Cmd", "Entrypoint") if isinstance(user.get(k), str)}}
    merged = dict(user)
    entrypoint = user.get("Entrypoint")
    if entrypoint == [""]:
        entrypoint = []
    if not entrypoint:
        if not user.get("Cmd"):
            merged["Cmd"] = image.get("Cmd")
        if entrypoint is None:
            entrypoint = image.get("Entrypoint")
    merged["Entrypoint"] = entrypoint or None
    merged["Cmd"] = merged.get("Cmd") or None
    if not (merged["Entrypoint"] or merged["Cmd"]):
        raise InvalidArgument("No command specified")
    merged["Env"] = merge_env(image.get("Env") or [], user.get("Env") or [])
    merged["Labels"] = {**(image.get("Labels") or {}), **(user.get("Labels") or {})}
    merged["ExposedPorts"] = {**(image.get("ExposedPorts") or {}), **(user.get("ExposedPorts") or {})}
    merged["Volumes"] = {**(image.get("Volumes") or {}), **(user.get("Volumes") or {})}
    if image.get("Healthcheck"):  # field by field, as moby's merge: what the user left empty comes from the image
        user_check = user.get("Healthcheck") or {}
        merged["Healthcheck"] = {
            **image["Healthcheck"],
            **{k: v for k, v in user_check.items() if v not in (None, 0, [], "")},
        }
    for key in ("User", "WorkingDir", "StopSignal", "OnBuild", "Shell"):
        if not merged.get(key) and image.get(key):
            merged[key] = image[key]
    return merged


def host_config_defaults(host_config: dict) -> dict:
    """A create request's HostConfig with dockerd's defaults: the `default` network mode (the
    bridge), no restart policy, the json-file log driver (also when LogConfig names no type),
    a cgroup namespace of its own (what the runtime gives it unless asked for the host's, on
    cgroup v1 as on v2, where dockerd shares the host's on v1)."""
    log_config = host_config.get("LogConfig") or {}
    if not log_config.get("Type"):
        host_config = {**host_config, "LogConfig": {"Type": "json-file", "Config": log_config.get("Config") or {}}}
    defaults = {
        "NetworkMode": "default",
        "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
        "LogConfig": {"Type": "json-file", "Config": {}},
        **host_config,
    }
    return {**defaults, "CgroupnsMode": host_config.get("CgroupnsMode") or "private"}


def process_env(config: dict, hostname: str, home: str) -> list[str]:
    """The environment a container process starts with: PATH, HOSTNAME, TERM, HOME, then the config's."""
    env = list(config.get("Env") or [])
    keys = {_env_key(e) for e in env}
    defaults = [f"PATH={DEFAULT_PATH}", f"HOSTNAME={hostname}"]
    if config.get("Tty"):
        defaults.append("TERM=xterm")
    if "HOME" not in keys:
        defaults.append(f"HOME={home}")
    return merge_env(defaults, env)

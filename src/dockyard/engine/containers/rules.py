"""Pure rules of the container service: signals, exit codes, option sizes, request checks, filters."""

from __future__ import annotations

import signal as signals

from dockyard.engine.containers.model import Container
from dockyard.engine.containers.security import check_security
from dockyard.errors import InvalidArgument


def parse_signal(value: str | int | None, default: int = signals.SIGTERM) -> int:
    """`SIGTERM`, `TERM`, `15`, `SIGRTMIN+3` -> a signal number. Raises InvalidArgument."""
    if value in (None, "", 0):
        return default
    text = str(value).upper()
    if text.isdigit():
        if int(text) == 0:
            raise InvalidArgument(f"Invalid signal: {value}")
        return int(text)
    name = text if text.startswith("SIG") else "SIG" + text
    if name.startswith("SIGRTMIN+") and name[9:].isdigit():
        return signals.SIGRTMIN + int(name[9:])
    try:
        return int(signals.Signals[name])
    except KeyError:
        raise InvalidArgument(f"Invalid signal: {value}") from None


def exit_code_for(message: str) -> int:
    """Docker's exit codes for a process that could not be started."""
    if "executable file not found" in message or "no such file or directory" in message:
        return 127
    if "permission denied" in message:
        return 126
    return 128


def size_option(value: str) -> int:
    """A log-opt size (`10m`, `1g`, `512k`, `100`) in bytes."""
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    value = value.strip().lower().rstrip("b")
    if value and value[-1] in units:
        return int(float(value[:-1]) * units[value[-1]])
    return int(value)


_CONFIG_TYPES = {
    "Image": (str,),
    "Cmd": (list, str),
    "Entrypoint": (list, str),
    "Env": (list,),
    "Labels": (dict,),
    "WorkingDir": (str,),
    "User": (str,),
    "Hostname": (str,),
    "Tty": (bool,),
    "OpenStdin": (bool,),
}
_JSON_NAMES = {str: "string", int: "number", float: "number", bool: "bool", list: "array", dict: "object"}


def check_config_types(config: dict) -> None:
    """Reject what Go's JSON decoder would refuse, in its words (a 400, not a crash later)."""
    for key, allowed in _CONFIG_TYPES.items():
        value = config.get(key)
        if value is not None and not isinstance(value, allowed):
            raise InvalidArgument(
                f"json: cannot unmarshal {_JSON_NAMES.get(type(value), 'value')} into Go struct "
                f"field Config.{key} of type {_JSON_NAMES[allowed[0]]}"
            )
    for key in ("Cmd", "Entrypoint", "Env"):
        if isinstance(config.get(key), list) and not all(isinstance(v, str) for v in config[key]):
            raise InvalidArgument(f"json: cannot unmarshal non-string into Go struct field Config.{key} of type string")


RESTART_POLICIES = ("no", "always", "unless-stopped", "on-failure")
# Docker's built-in logging drivers; dockyard writes json-file logs only
LOG_DRIVERS = ("json-file", "local", "none", "syslog", "journald", "gelf", "fluentd", "awslogs", "splunk")
LOG_DRIVERS += ("etwlogs", "gcplogs", "logentries")
JSON_FILE_OPTS = ("max-file", "max-size", "compress", "labels", "labels-regex", "env", "env-regex", "tag")


def check_host_config(host_config: dict) -> None:
    """Refuse, before anything is made, what Docker refuses at create (security: security.py)."""
    check_security(host_config)
    policy = host_config.get("RestartPolicy") or {}
    check_restart_policy(policy)
    if host_config.get("AutoRemove") and (policy.get("Name") or "no") != "no":
        raise InvalidArgument("can't create 'AutoRemove' container with restart policy")
    check_log_config(host_config.get("LogConfig") or {})


def check_restart_policy(policy: dict) -> None:
    """Raises InvalidArgument, in dockerd's words, for a policy dockerd refuses."""
    name, retries = policy.get("Name") or "no", policy.get("MaximumRetryCount") or 0
    if name not in RESTART_POLICIES:
        raise InvalidArgument(f"invalid restart policy '{name}'")
    if retries < 0:
        raise InvalidArgument("maximum retry count cannot be negative")
    if retries and name != "on-failure":
        raise InvalidArgument(f"maximum retry count cannot be used with restart policy '{name}'")


def check_log_config(log_config: dict) -> None:
    """An unknown driver or json-file option is dockerd's 400; a known driver other than
    json-file is refused by name (dockyard writes json-file logs only)."""
    driver = log_config.get("Type") or "json-file"
    if driver not in LOG_DRIVERS:
        raise InvalidArgument(f'error looking up logging plugin {driver}: plugin "{driver}" not found')
    if driver != "json-file":
        raise InvalidArgument(f"log driver {driver} is not supported by dockyard: only json-file is")
    for option in log_config.get("Config") or {}:
        if option not in JSON_FILE_OPTS:
            raise InvalidArgument(f"unknown log opt '{option}' for json-file log driver")


def update_policy(body: dict) -> dict | None:
    """The restart policy a `POST /containers/{id}/update` body sets (None: unchanged).

    Raises InvalidArgument naming the resource fields, which dockyard cannot change on a
    created container yet, and for a policy dockerd refuses.
    """
    resources = sorted(
        key for key, value in body.items() if key != "RestartPolicy" and value not in (None, 0, "", [], {})
    )
    if resources:
        raise InvalidArgument(f"updating {', '.join(resources)} is not supported: dockyard updates only RestartPolicy")
    policy = body.get("RestartPolicy")
    if policy is not None:
        check_restart_policy(policy)
        policy = {"Name": policy.get("Name") or "no", "MaximumRetryCount": policy.get("MaximumRetryCount") or 0}
    return policy


PS_FILTERS = ("ancestor", "before", "expose", "exited", "health", "id", "isolation", "is-task", "label")
PS_FILTERS += ("name", "network", "publish", "since", "status", "volume")
PS_SUPPORTED = ("ancestor", "exited", "id", "label", "name", "status")
STATUSES = ("created", "restarting", "running", "removing", "paused", "exited", "dead")


def check_filters(filters: dict[str, list[str]], accepted: tuple[str, ...], supported: tuple[str, ...]) -> None:
    """Raises InvalidArgument, in moby's words, for a filter key the endpoint does not know,
    a status that is none, or a dangling value that is no boolean; and, naming it, for a
    key Docker knows that dockyard does not filter on yet (never silently ignored)."""
    for key in filters:
        if key not in accepted:
            raise InvalidArgument(f"Invalid filter '{key}'")
        if key not in supported:
            raise InvalidArgument(f"the '{key}' filter is not supported by dockyard yet")
    for status in filters.get("status", []):
        if status not in STATUSES:
            raise InvalidArgument(f"Invalid filter 'status={status}'")
    for value in filters.get("dangling", []):
        if value.lower() not in ("true", "false", "1", "0"):
            raise InvalidArgument(f"Invalid filter 'dangling=[{value}]'")


def matches_filters(container: Container, filters: dict[str, list[str]]) -> bool:
    checks = {
        "status": lambda v: container.state.status == v,
        "name": lambda v: v.lstrip("/") in container.name,
        "id": lambda v: container.id.startswith(v),
        "ancestor": lambda v: (
            v in (container.image, container.image_id) or container.image_id.startswith("sha256:" + v)
        ),
        "exited": lambda v: container.state.status == "exited" and str(container.state.exit_code) == v,
    }
    for key, values in filters.items():
        if key == "label":
            if not labels_match(container.config.get("Labels") or {}, values):
                return False
        elif key in checks and not any(checks[key](v) for v in values):
            return False
    return True


def labels_match(labels: dict, wanted: list[str]) -> bool:
    """Docker's `label=key` / `label=key=value` filters, all of which must hold."""
    for value in wanted:
        key, sep, expected = value.partition("=")
        if key not in labels or (sep and labels[key] != expected):
            return False
    return True

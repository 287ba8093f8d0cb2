"""Pure rules of the container service: signals, exit codes, option sizes, request checks, labels."""

from __future__ import annotations

import signal as signals

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
    """Reject what Go's JSON decoder would refuse, in its words (a 400, not a crash later), and a
    relative WorkingDir, as dockerd does."""
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
    workdir = config.get("WorkingDir") or ""
    if workdir and not workdir.startswith("/"):
        raise InvalidArgument(f"the working directory '{workdir}' is invalid, it needs to be an absolute path")


def check_restart_policy(policy: dict) -> None:
    """moby's validateRestartPolicy, in its words. Raises InvalidArgument."""
    name, count = policy.get("Name") or "", policy.get("MaximumRetryCount") or 0
    if name in ("always", "unless-stopped", "no"):
        if count != 0:
            negative = " and cannot be negative" if count < 0 else ""
            raise InvalidArgument(
                f"invalid restart policy: maximum retry count can only be used with 'on-failure'{negative}"
            )
    elif name == "on-failure":
        if count < 0:
            raise InvalidArgument("invalid restart policy: maximum retry count cannot be negative")
    elif name:
        raise InvalidArgument(
            f"invalid restart policy: unknown policy '{name}'; "
            "use one of 'no', 'always', 'on-failure', or 'unless-stopped'"
        )


# Docker's built-in logging drivers; dockyard writes json-file logs only
LOG_DRIVERS = ("json-file", "local", "none", "syslog", "journald", "gelf", "fluentd", "awslogs", "splunk")
LOG_DRIVERS += ("etwlogs", "gcplogs", "logentries")
JSON_FILE_OPTS = ("max-file", "max-size", "compress", "labels", "labels-regex", "env", "env-regex", "tag")


def check_host_config(host_config: dict) -> None:
    """Refuse, before anything is made, what Docker refuses at create (security: security.py)."""
    check_security(host_config)
    check_restart_policy(host_config.get("RestartPolicy") or {})
    policy = (host_config.get("RestartPolicy") or {}).get("Name") or "no"
    if host_config.get("AutoRemove") and policy != "no":
        raise InvalidArgument("can't create 'AutoRemove' container with restart policy")
    check_log_config(host_config.get("LogConfig") or {})


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


def labels_match(labels: dict, wanted: list[str]) -> bool:
    """Docker's `label=key` / `label=key=value` filters, all of which must hold."""
    for value in wanted:
        key, sep, expected = value.partition("=")
        if key not in labels or (sep and labels[key] != expected):
            return False
    return True

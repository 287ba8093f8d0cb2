"""The OCI runtimes a container may name (`--runtime`, HostConfig.Runtime), as dockerd's
daemon.json `runtimes` and `default-runtime` configure them.

`dockyard` is dockyard's own runtime (the shim's init) and the default; `runc` and `crun` are
known when found on PATH; daemon.json adds others or moves these:
`{"runtimes": {"name": {"path": "/usr/bin/x", "runtimeArgs": ["--debug"]}}, "default-runtime": "name"}`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field

from dockyard.errors import InvalidArgument

OWN = "dockyard"
WELL_KNOWN = ("runc", "crun")


@dataclass(frozen=True)
class OciRuntimes:
    default: str = OWN
    commands: dict[str, list[str]] = field(default_factory=dict)  # name -> path and runtimeArgs

    @classmethod
    def from_daemon_json(cls, settings: dict, which: Callable[[str], str | None] = shutil.which) -> OciRuntimes:
        """Raises InvalidArgument for a malformed entry or an unknown default."""
        commands = {name: [path] for name in WELL_KNOWN if (path := which(name))}
        for name, entry in (settings.get("runtimes") or {}).items():
            if name == OWN:
                raise InvalidArgument(f"runtime name '{OWN}' is reserved")
            if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) or not entry["path"]:
                raise InvalidArgument(f"runtime {name}: a path is required")
            args = entry.get("runtimeArgs") or []
            if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
                raise InvalidArgument(f"runtime {name}: runtimeArgs must be a list of strings")
            commands[name] = [entry["path"], *args]
        runtimes = cls(settings.get("default-runtime") or OWN, commands)
        runtimes.command(runtimes.default)  # an unknown default is refused at start
        return runtimes

    def names(self) -> list[str]:
        return [OWN, *sorted(self.commands)]

    def command(self, name: str) -> list[str] | None:
        """The command of runtime `name` ("" is the default); None for dockyard's own.
        Raises InvalidArgument, in dockerd's words, for a name that is none."""
        name = name or self.default
        if name == OWN:
            return None
        if name not in self.commands:
            raise InvalidArgument(f"Unknown runtime specified {name}")
        return self.commands[name]

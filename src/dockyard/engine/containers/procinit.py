"""`--init`: dockyard-init (src/dockyard/runtime/reaper/) as the container's PID 1.

As dockerd does with docker-init, the binary is bind-mounted read-only at /sbin/docker-init
and the container's command becomes its arguments; it forwards signals to the command and
reaps the zombies left by orphans (docs/decisions/0091-init-reaper.md).
"""

from __future__ import annotations

import os
from typing import Any

from dockyard.errors import InvalidArgument

DEFAULT_INIT_PATH = "/usr/local/libexec/dockyard/dockyard-init"
INIT_IN_CONTAINER = "/sbin/docker-init"


def check(host_config: dict, init_path: str) -> None:
    """Refuse `Init` when the reaper binary is missing. Raises InvalidArgument."""
    if host_config.get("Init") and not os.access(init_path, os.X_OK):
        raise InvalidArgument(f"--init: {init_path} is not an executable file (scripts/setup.sh builds it)")


def wrap(spec: dict[str, Any], init_path: str) -> None:
    """Make the reaper PID 1 of `spec`, running the original command as its child."""
    spec["process"]["args"] = [INIT_IN_CONTAINER, "--", *spec["process"]["args"]]
    spec["mounts"].append(
        {"destination": INIT_IN_CONTAINER, "type": "bind", "source": init_path, "options": ["rbind", "ro"]}
    )

"""Restart policies (`--restart`), as dockerd applies them when a container's process exits.

    no               never
    on-failure[:N]   a non-zero exit, at most N times (0: no limit)
    always           every exit, and at daemon start
    unless-stopped   like always, unless the user stopped it

A stop, kill -9 or rm by the user (`manually_stopped`) ends every policy. Between tries the
delay doubles with the restart count, from 0.2 s up to 10 s (dockerd's restart manager
doubles from 100 ms up to a minute, and starts again after a run of 10 s).
"""

from __future__ import annotations

from dockyard.engine.containers.model import Container

FIRST_DELAY = 0.1  # seconds, doubled per restart already made
MAX_DELAY = 10.0


def should_restart(container: Container) -> bool:
    """Whether the container's policy restarts it after the exit just recorded."""
    policy = container.host_config.get("RestartPolicy") or {}
    name, limit = policy.get("Name") or "no", policy.get("MaximumRetryCount") or 0
    if container.state.manually_stopped or name == "no":
        return False
    if name == "on-failure":
        return container.state.exit_code != 0 and (not limit or container.state.restart_count < limit)
    return name in ("always", "unless-stopped")


def restart_delay(restart_count: int) -> float:
    """Seconds to wait before restart number `restart_count` (counted from 1)."""
    return min(FIRST_DELAY * 2 ** min(restart_count, 8), MAX_DELAY)

"""Restart policies and their back-off, as moby's restartmanager decides them. Pure.

    policy            restarts after an exit when
    no                never
    on-failure[:N]    the exit code is not 0 (and fewer than N restarts so far, if N > 0)
    always            always, unless stopped by the user (stop, kill -9, rm -f)
    unless-stopped    the same; and after a daemon restart only if it was not stopped

The delay before a restart doubles from 100 ms up to one minute, and starts over at
100 ms after a run of at least 10 seconds.
"""

from __future__ import annotations

BACKOFF_FIRST = 0.1  # seconds
BACKOFF_MAX = 60.0
RESET_AFTER = 10.0  # a run at least this long resets the back-off


def should_restart(policy: dict, exit_code: int, restart_count: int, manually_stopped: bool) -> bool:
    """Whether a container that just exited is restarted under its RestartPolicy."""
    name, limit = policy.get("Name") or "no", policy.get("MaximumRetryCount") or 0
    if manually_stopped or name == "no":
        return False
    if name == "on-failure":
        return exit_code != 0 and (not limit or restart_count < limit)
    return name in ("always", "unless-stopped")


def next_delay(previous: float, ran_for: float) -> float:
    """The delay before this restart, given the previous one (0 for none) and the run's length."""
    if ran_for >= RESET_AFTER or previous <= 0:
        return BACKOFF_FIRST
    return min(previous * 2, BACKOFF_MAX)

"""Pids controller: `resources.pids.limit` (0 or less: unlimited)."""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs the shim milliseconds at start-up
if TYPE_CHECKING:
    from typing import Any


def requested(resources: dict[str, Any]) -> bool:
    return "limit" in resources.get("pids", {})


def settings(resources: dict[str, Any], version: int) -> list[tuple[str, str]]:
    """pids.max is the same file on v1 and v2."""
    limit = resources["pids"]["limit"]
    return [("pids.max", str(limit) if limit > 0 else "max")]

"""CPU controller: `resources.cpu.shares`, `quota` and `period` (CFS bandwidth).

    OCI field   v1 file              v2 file
    shares      cpu.shares           cpu.weight (runc's conversion)
    quota       cpu.cfs_quota_us     cpu.max `<quota|max> <period>`
    period      cpu.cfs_period_us    cpu.max

A quota of -1 (or 0 with a period) is no bandwidth limit.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs the shim milliseconds at start-up
if TYPE_CHECKING:
    from typing import Any

DEFAULT_PERIOD = 100_000


def requested(resources: dict[str, Any]) -> bool:
    cpu = resources.get("cpu", {})
    return bool(cpu.get("shares") or cpu.get("quota") or cpu.get("period"))


def shares_to_weight(shares: int) -> int:
    """cgroup v1 shares [2, 262144] to v2 weight [1, 10000] (runc's formula)."""
    return 1 + ((shares - 2) * 9999) // 262142


def settings(resources: dict[str, Any], version: int) -> list[tuple[str, str]]:
    """v1 cpu.shares / cfs_period_us / cfs_quota_us; v2 cpu.weight / cpu.max."""
    cpu = resources["cpu"]
    shares, quota, period = cpu.get("shares"), cpu.get("quota"), cpu.get("period")
    result = []
    if version == 1:
        if shares:
            result.append(("cpu.shares", str(shares)))
        if period:
            result.append(("cpu.cfs_period_us", str(period)))
        if quota:
            result.append(("cpu.cfs_quota_us", str(quota)))
        return result
    if shares:
        result.append(("cpu.weight", str(shares_to_weight(shares))))
    if quota or period:
        limit = str(quota) if quota and quota > 0 else "max"
        result.append(("cpu.max", f"{limit} {period or DEFAULT_PERIOD}"))
    return result

"""Devices controller (v1 only): `resources.devices` rules, applied in order.

Each rule is OCI's `{"allow": bool, "type": "a|c|b", "major": n, "minor": n, "access": "rwm"}`;
a missing major or minor means any. cgroup v2 has no such files: there the rules become
an eBPF program (devicebpf.py), which limits.apply attaches.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs the shim milliseconds at start-up
if TYPE_CHECKING:
    from typing import Any

OPTIONAL = True  # absent v1 controller (v2-only host): devicebpf.py does the work


def _allow(kind: str, major: int | None, minor: int | None, access: str = "rwm") -> dict[str, Any]:
    return {"allow": True, "type": kind, "major": major, "minor": minor, "access": access}


# The rules Docker starts from: deny everything, allow mknod of any node, and use of
# null zero full random urandom tty console ptmx, the pts and /dev/net/tun.
DEFAULT_RULES = (
    {"allow": False, "access": "rwm"},
    _allow("c", None, None, "m"),
    _allow("b", None, None, "m"),
    _allow("c", 1, 3),
    _allow("c", 1, 8),
    _allow("c", 1, 7),
    _allow("c", 5, 0),
    _allow("c", 5, 1),
    _allow("c", 1, 5),
    _allow("c", 1, 9),
    _allow("c", 136, None),
    _allow("c", 5, 2),
    _allow("c", 10, 200),
)


def requested(resources: dict[str, Any]) -> bool:
    return bool(resources.get("devices"))


def rule_line(rule: dict[str, Any]) -> str:
    """`c 1:3 rwm` for one rule; `a` alone for an any-device rule without numbers."""
    kind = rule.get("type") or "a"
    major = "*" if rule.get("major") is None else str(rule["major"])
    minor = "*" if rule.get("minor") is None else str(rule["minor"])
    if kind == "a" and major == minor == "*":
        return "a"
    return f"{kind} {major}:{minor} {rule.get('access') or 'rwm'}"


def settings(resources: dict[str, Any], version: int) -> list[tuple[str, str]]:
    """(devices.allow | devices.deny, rule) pairs in spec order; nothing on v2."""
    if version != 1:
        return []
    return [
        ("devices.allow" if rule.get("allow") else "devices.deny", rule_line(rule)) for rule in resources["devices"]
    ]

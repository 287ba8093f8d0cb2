"""Run one action per named object, as docker's multi-target verbs do (stop, rm, kill, ...)."""

from __future__ import annotations

import sys

from dockyard.errors import DockyardError


def each(refs: list[str], action, echo: bool = True) -> int:
    """Call action(ref) for each; print the ref on success, the daemon's error otherwise; 1 if any failed."""
    failed = False
    for ref in refs:
        try:
            result = action(ref)
        except DockyardError as exc:
            if not hasattr(exc, "status"):
                raise
            sys.stdout.flush()
            sys.stderr.write(f"Error response from daemon: {exc}\n")
            failed = True
            continue
        if echo:
            sys.stdout.write(f"{ref if result is None else result}\n")
    return 1 if failed else 0

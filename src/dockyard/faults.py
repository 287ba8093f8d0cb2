"""Fault injection for the crash-consistency tests: off unless DOCKYARD_FAULTS names a point.

    DOCKYARD_FAULTS=pull.after-layer        the process SIGKILLs itself on reaching that point
    DOCKYARD_FAULTS=pull.after-layer@2      ... the second time it gets there
    DOCKYARD_FAULTS=a,b                     either point

A point is a place where a crash must leave the data root consistent (named
`<operation>.<moment>`: see POINTS). The variable is read once, at import; in production it
is unset and `point()` returns at once. SIGKILL, not an exception: no `finally` block or
rollback runs, as when the machine loses power or the OOM killer strikes.
"""

from __future__ import annotations

import os
import signal
import threading

POINTS = (
    "pull.after-fetch",  # blobs in the store, layers not all unpacked
    "pull.after-layer",  # one layer unpacked and published
    "pull.before-record",  # every layer unpacked, no image record yet
    "unpack.before-publish",  # a layer unpacked and checked in its scratch dir
    "unpack.mid-sync",  # a layer's files fsynced, its directories not yet, not yet renamed
    "load.after-blob",  # one layer blob of the archive stored
    "load.before-record",
    "import.after-blob",
    "commit.after-blob",
    "register.before-record",  # layers unpacked, config and manifest stored
    "rmi.after-record",  # the image record gone, its content not yet collected
    "gc.mid-sweep",  # some unreferenced content deleted, some not yet
    "rm.after-record",  # a container's record gone, its task, mount and files not yet
    "network.create.after-record",  # the network row written, no bridge yet
    "network.connect.after-record",  # the endpoint row written, no veth yet
    "start.after-task",  # the container's process created, not yet recorded as running
)
ENVIRONMENT = "DOCKYARD_FAULTS"


def _parse(raw: str) -> dict[str, int]:
    """`a,b@2` -> {"a": 1, "b": 2}: the point and on which arrival to fire."""
    armed = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        name, _, nth = item.partition("@")
        armed[name] = int(nth) if nth.isdigit() and int(nth) > 0 else 1
    return armed


_armed = _parse(os.environ.get(ENVIRONMENT, ""))
_arrivals: dict[str, int] = {}
_lock = threading.Lock()


def point(name: str) -> None:
    """Die here by SIGKILL if the environment armed this point (and this is the arrival it named)."""
    if not _armed or name not in _armed:
        return
    with _lock:
        _arrivals[name] = _arrivals.get(name, 0) + 1
        if _arrivals[name] == _armed[name]:
            os.kill(os.getpid(), signal.SIGKILL)

"""Progress events of a pull or push, one small record per change of a blob's state.

The `images` package turns them into docker's JSON progress messages
(`{"status": "Downloading", "progressDetail": {"current": n, "total": m}, "id": "<12 hex>"}`).
Callbacks are called from worker threads and must be quick and thread-safe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dockyard.oci.digest import Digest

PULLING = "Pulling fs layer"
WAITING = "Waiting"
DOWNLOADING = "Downloading"
VERIFYING = "Verifying Checksum"
DOWNLOAD_COMPLETE = "Download complete"
ALREADY_EXISTS = "Already exists"
RETRYING = "Retrying"
PREPARING = "Preparing"
PUSHING = "Pushing"
PUSHED = "Pushed"
LAYER_EXISTS = "Layer already exists"
MOUNTED = "Mounted from"


@dataclass(frozen=True, slots=True)
class Progress:
    """One blob's state: `id` is docker's 12-hex short form of its digest."""

    digest: Digest
    status: str
    current: int = 0
    total: int = 0
    detail: str = ""

    @property
    def id(self) -> str:
        return self.digest.short

    @property
    def message(self) -> str:
        """The status as docker prints it (`Mounted from library/busybox`)."""
        return f"{self.status} {self.detail}" if self.detail else self.status


ProgressCallback = Callable[[Progress], None]


def ignore(event: Progress) -> None:
    """The callback used when the caller wants no progress."""

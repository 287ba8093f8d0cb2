"""Docker's JSON progress messages for pull and push, and a job that streams them.

    {"status": "Pulling fs layer", "progressDetail": {}, "id": "a3ed95caeb02"}
    {"status": "Downloading", "progressDetail": {"current": 1048576, "total": 2811478},
     "progress": "[==================>        ]  1.049MB/2.811MB", "id": "a3ed95caeb02"}
    {"status": "Pull complete", "progressDetail": {}, "id": "a3ed95caeb02"}

The `progress` text is moby's JSONProgress.String() at its server-side width (200 columns);
the docker CLI redraws its own bars from `progressDetail`.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator

from dockyard.distribution.progress import Progress
from dockyard.units import human_size

EXTRACTING = "Extracting"
PULL_COMPLETE = "Pull complete"
BAR = 50
_DONE = object()

Emit = Callable[[dict], None]


def progress_text(current: int, total: int, width: int = 200) -> str:
    """moby's JSONProgress.String(): `[====>     ]  1.2MB/3.4MB`."""
    if current <= 0 and total <= 0:
        return ""
    if total <= 0:
        return f"{human_size(current):>8}"
    filled = min(BAR, int(current / total * 100) // 2)
    bar = f"[{'=' * filled}>{' ' * (BAR - filled)}] " if width > 110 else ""
    if current > total:
        return f"{bar}{human_size(current):>8}"
    return f"{bar}{human_size(current):>8}/{human_size(total)}"


def message(event: Progress) -> dict:
    """One progress event as docker's JSON message."""
    out: dict = {"status": event.message, "progressDetail": {}, "id": event.id}
    if event.total > 0 and event.status not in ("Retrying",):
        out["progressDetail"] = {"current": event.current, "total": event.total}
        out["progress"] = progress_text(event.current, event.total)
    return out


def status(text: str, id: str = "") -> dict:
    """A plain status line (`Digest: sha256:...`), with an id when it belongs to one."""
    return {"status": text, "id": id} if id else {"status": text}


def stream_job(job: Callable[[Emit], None]) -> Iterator[dict]:
    """Run `job(emit)` on a thread and yield what it emits, then raise what it raised.

    The job's first message is awaited before anything is yielded, so an error raised before
    it (a 404 from the registry) reaches the API layer as an HTTP error, not a stream line.
    """
    messages: queue.Queue = queue.Queue()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            job(messages.put)
        except BaseException as exc:  # handed to the consumer below
            failure.append(exc)
        finally:
            messages.put(_DONE)

    threading.Thread(target=run, name="image-job", daemon=True).start()
    while (item := messages.get()) is not _DONE:
        yield item
    if failure:
        raise failure[0]

"""The event bus behind `docker events`: publish, replay a bounded history, subscribe."""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Iterator

from dockyard.engine.eventfilters import matches

HISTORY = 1024


class EventBus:
    """Thread-safe fan-out of events to subscribers, with the recent ones kept for `since`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._history: deque[dict] = deque(maxlen=HISTORY)
        self._subscribers: set[queue.Queue] = set()

    def publish(self, kind: str, action: str, actor_id: str, attributes: dict[str, str]) -> None:
        now = time.time_ns()
        event = {
            "Type": kind,
            "Action": action,
            "Actor": {"ID": actor_id, "Attributes": attributes},
            "scope": "local",
            "time": now // 1_000_000_000,
            "timeNano": now,
        }
        if kind in ("container", "image"):  # moby's deprecated fields, kept for both
            event.update({"status": action, "id": actor_id})
        if kind == "container":
            event["from"] = attributes.get("image", "")
        with self._lock:
            self._history.append(event)
            for subscriber in self._subscribers:
                subscriber.put(event)

    def subscribe(self, since: float | None, until: float | None, filters: dict[str, list[str]]) -> Iterator[dict]:
        """Past events from `since`, then live ones until `until` (forever when None)."""
        inbox: queue.Queue = queue.Queue()
        with self._lock:
            past = [e for e in self._history if since is not None and e["timeNano"] >= since * 1e9]
            self._subscribers.add(inbox)
        try:
            for event in past:
                if (until is None or event["timeNano"] <= until * 1e9) and matches(event, filters):
                    yield event
            while until is None or time.time() < until:
                timeout = None if until is None else max(0.0, until - time.time())
                try:
                    event = inbox.get(timeout=timeout)
                except queue.Empty:
                    return
                if matches(event, filters):
                    yield event
        finally:
            with self._lock:
                self._subscribers.discard(inbox)

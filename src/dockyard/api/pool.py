"""A bounded pool of worker threads that a task may leave when it turns long-lived.

Threads start on demand up to `size` and wait for tasks once started. A task that will
run for a long time (a followed log, a hijacked attach) calls detach(): its thread stops
counting against `size`, another worker may start in its place, and the thread ends with
the task instead of taking the next one.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class WorkerPool:
    """Run submitted callables on at most `size` attached threads."""

    def __init__(self, size: int, name: str) -> None:
        self.size = size
        self._name = name
        self._tasks: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._workers = 0  # attached threads
        self._idle = 0  # attached threads waiting for a task
        self._pending = 0  # tasks submitted and not yet taken
        self._local = threading.local()

    def submit(self, task: Callable[[], None]) -> None:
        with self._lock:
            self._pending += 1
            self._grow()
        self._tasks.put(task)

    def detach(self) -> None:
        """Called from inside a task: this thread leaves the pool once the task ends."""
        if getattr(self._local, "detached", True):
            return
        self._local.detached = True
        with self._lock:
            self._workers -= 1
            self._grow()

    def shutdown(self) -> None:
        """Let idle workers end; running tasks finish on their own."""
        with self._lock:
            workers = self._workers
        for _ in range(workers):
            self._tasks.put(None)

    def _grow(self) -> None:
        if self._pending > self._idle and self._workers < self.size:
            self._workers += 1
            self._idle += 1
            threading.Thread(target=self._run, name=self._name, daemon=True).start()

    def _run(self) -> None:
        self._local.detached = False
        while not self._local.detached:
            task = self._tasks.get()
            with self._lock:
                self._idle -= 1
                if task is not None:
                    self._pending -= 1
            if task is None:
                with self._lock:
                    self._workers -= 1
                return
            try:
                task()
            except Exception:  # noqa: BLE001 - a task's failure must not end the worker
                log.exception("worker task failed")
            if not self._local.detached:
                with self._lock:
                    self._idle += 1

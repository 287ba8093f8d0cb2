"""A bounded pool of worker threads that a task may leave when it turns long-lived.

Threads start on demand up to `size` and wait for tasks once started. A task that will
run for a long time (a followed log, a hijacked attach) calls detach(): its thread stops
counting against `size` and another worker may start in its place. When that task ends,
the thread rejoins the pool if there is room, else it ends: `docker run` detaches two
tasks (attach, wait), and starting a thread costs the request that waits for it ~0.2 ms.
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
        self._closed = False
        self._local = threading.local()

    def submit(self, task: Callable[[], None]) -> None:
        with self._lock:
            self._pending += 1
            self._grow()
        self._tasks.put(task)

    def detach(self) -> None:
        """Called from inside a task: this thread stops counting against `size` (it rejoins
        the pool when the task ends, if there is room)."""
        if getattr(self._local, "detached", True):
            return
        self._local.detached = True
        with self._lock:
            self._workers -= 1
            self._grow()

    def shutdown(self) -> None:
        """Let idle workers end; running tasks finish on their own, and their threads end after
        them (detached ones too, instead of rejoining)."""
        with self._lock:
            workers, self._closed = self._workers, True
        for _ in range(workers):
            self._tasks.put(None)

    def _grow(self) -> None:
        if self._pending > self._idle and self._workers < self.size:
            self._workers += 1
            self._idle += 1
            threading.Thread(target=self._run, name=self._name, daemon=True).start()

    def _run(self) -> None:
        while self._serve() and self._rejoin():
            pass

    def _serve(self) -> bool:
        """Take tasks until one detaches (True) or the pool shuts down (False)."""
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
                return False
            try:
                task()
            except Exception:  # noqa: BLE001 - a task's failure must not end the worker
                log.exception("worker task failed")
            if not self._local.detached:
                with self._lock:
                    self._idle += 1
        return True

    def _rejoin(self) -> bool:
        """After a detached task: serve again if the pool has room, else let the thread end."""
        with self._lock:
            if self._closed or self._workers >= self.size:
                return False
            self._workers += 1
            self._idle += 1
        return True

"""Daemon threads for long waits, kept a while after their job to run the next one.

Starting a thread costs its caller ~0.2 ms here, and more when the new thread keeps the GIL
(Thread.start waits until it runs), and `docker run` starts one to watch each container's
exit before it answers. A thread whose job has ended waits `linger` seconds for another; at
most `max_idle` wait. With `spare`, a thread about to run its job first starts another to
wait, if none waits or is starting, so a spawn() rarely waits for a thread to start.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

Job = tuple[Callable[..., object], tuple, str]


class Threads:
    """Daemon threads, reused: spawn() hands a job to an idle one or starts one."""

    def __init__(self, linger: float = 30.0, max_idle: int = 8, spare: bool = False) -> None:
        self.linger, self.max_idle, self.spare = linger, max_idle, spare
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[Job] = queue.SimpleQueue()
        self.idle = 0  # threads waiting on _jobs; each job put there was promised to one of them
        self._starting = False  # a spare thread is being started

    def spawn(self, target: Callable[..., object], *args: object, name: str = "worker") -> None:
        """Run target(*args) on a daemon thread named `name`."""
        job = (target, args, name)
        with self._lock:
            if self.idle:
                self.idle -= 1
                self._jobs.put(job)
                return
        threading.Thread(target=self._loop, args=(job,), name=name, daemon=True).start()

    def _loop(self, job: Job | None) -> None:
        """Run `job` (None: wait for one first), then wait for the next until `linger` passes."""
        while True:
            if job is None:
                job = self._next_job()
                if job is None:
                    return
            self._keep_spare()
            target, args, name = job
            threading.current_thread().name = name
            try:
                target(*args)
            except Exception:  # noqa: BLE001 - a job's failure must not end a reusable thread
                log.exception("thread %s failed", name)
            with self._lock:
                if self.idle >= self.max_idle:
                    return
                threading.current_thread().name = "idle"
                self.idle += 1
            job = None

    def _next_job(self) -> Job | None:
        """Wait (counted in `idle`) for a job; None once `linger` has passed without one."""
        while True:
            try:
                return self._jobs.get(timeout=self.linger)
            except queue.Empty:
                with self._lock:
                    if self._jobs.empty():  # no job was promised to the idle threads meanwhile
                        self.idle -= 1
                        return None

    def _keep_spare(self) -> None:
        """With `spare`, start a waiting thread if none waits or is starting (this thread pays
        for its start); it counts itself idle once it runs, so a failed start promises nothing."""
        if not self.spare:
            return
        with self._lock:
            if self.idle or self._starting:
                return
            self._starting = True
        try:
            threading.Thread(target=self._spare, name="idle", daemon=True).start()
        except BaseException as exc:
            with self._lock:
                self._starting = False
            if not isinstance(exc, RuntimeError):  # RuntimeError: no thread now; the next spawn() starts its own
                raise

    def _spare(self) -> None:
        with self._lock:
            self.idle += 1
            self._starting = False
        self._loop(None)


_shared = Threads(spare=True)
spawn = _shared.spawn

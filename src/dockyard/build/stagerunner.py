"""Stages that do not need each other build at the same time; their messages still come
out stage by stage, in Dockerfile order, as the classic builder prints them.

    runner = StageRunner(plan, dependencies, produce)   produce(index) -> Iterator[dict]
    for index in plan:
        yield from runner.messages(index, cancelled)    re-raises what that stage raised
    runner.stop()                                        always: stops and joins every stage

Each stage runs on its own thread once the stages it depends on are done. A stage that
fails stops every stage after it (their messages would follow the error), never one before
it; `stop()` (the build ended, or its client went away) stops them all, calling `interrupt`
first so that a RUN in progress ends instead of being waited for.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator

from dockyard.errors import DockyardError

_END = object()


class BuildCancelled(DockyardError):
    """The client of the build went away."""


class _Stopped(Exception):
    """A stage gave up because an earlier one failed or the build was stopped."""


class StageRunner:
    def __init__(
        self,
        plan: list[int],
        dependencies: dict[int, set[int]],
        produce: Callable[[int], Iterator[dict]],
        interrupt: Callable[[], None],
    ) -> None:
        self._produce, self._interrupt = produce, interrupt
        self._queues: dict[int, queue.Queue] = {i: queue.Queue() for i in plan}
        self._done = {i: threading.Event() for i in plan}
        self._failed_at: int | None = None  # the first stage that failed; -1 once stopped
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, args=(i, dependencies[i] & set(plan)), name=f"build-stage-{i}")
            for i in plan
        ]
        for thread in self._threads:
            thread.start()

    def _stopped(self, index: int) -> bool:
        failed = self._failed_at
        return failed is not None and index > failed

    def _run(self, index: int, needs: set[int]) -> None:
        out = self._queues[index]
        try:
            for need in sorted(needs):
                self._done[need].wait()
            if self._stopped(index):
                raise _Stopped()
            messages = self._produce(index)
            for message in messages:
                if self._stopped(index):
                    getattr(messages, "close", lambda: None)()
                    raise _Stopped()
                out.put(message)
        except BaseException as exc:  # handed to the consumer, in order
            if not isinstance(exc, _Stopped):
                with self._lock:
                    if self._failed_at is None or index < self._failed_at:
                        self._failed_at = index
            out.put(exc)
        finally:
            self._done[index].set()
            out.put(_END)

    def messages(self, index: int, cancelled: Callable[[], bool]) -> Iterator[dict]:
        """Stage `index`'s messages as they come; raises what it raised, or BuildCancelled
        once `cancelled()` (checked every second while the stage is silent)."""
        while (item := self._next(index, cancelled)) is not _END:
            if isinstance(item, _Stopped):
                continue  # an earlier stage failed: the consumer raises that one first
            if isinstance(item, BaseException):
                raise item
            yield item

    def _next(self, index: int, cancelled: Callable[[], bool]) -> object:
        while True:
            try:
                return self._queues[index].get(timeout=1)
            except queue.Empty:
                if cancelled():
                    raise BuildCancelled("the build was cancelled: its client went away") from None

    def stop(self) -> None:
        """Stop every stage still running and wait for their threads."""
        with self._lock:
            self._failed_at = -1
        if any(thread.is_alive() for thread in self._threads):
            self._interrupt()
        for thread in self._threads:
            thread.join()

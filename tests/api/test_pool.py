"""WorkerPool: bounded workers, detached long tasks, and threads reused after them."""

from __future__ import annotations

import threading

from dockyard.api.pool import WorkerPool
from tests.polling import eventually

TIMEOUT = 5.0


def _run(pool: WorkerPool, detach: bool = False, hold: threading.Event | None = None) -> int:
    """Submit a task and return the ident of the thread that ran it."""
    ran: list[int] = []
    done = threading.Event()

    def task() -> None:
        ran.append(threading.get_ident())
        if detach:
            pool.detach()
        done.set()
        if hold is not None:
            assert hold.wait(TIMEOUT)

    pool.submit(task)
    assert done.wait(TIMEOUT)
    return ran[0]


def test_a_thread_whose_detached_task_ended_serves_the_next_task():
    pool = WorkerPool(2, "test-pool")
    try:
        release = threading.Event()
        long_lived = _run(pool, detach=True, hold=release)
        release.set()
        eventually(lambda: pool._idle == 1 and pool._workers == 1)  # rejoined, no new thread
        assert _run(pool) == long_lived
    finally:
        pool.shutdown()


def test_a_detached_thread_does_not_rejoin_a_full_pool():
    pool = WorkerPool(1, "test-pool")
    try:
        release = threading.Event()
        detached = _run(pool, detach=True, hold=release)
        worker = _run(pool)  # the pool's one attached worker, started in the detached one's place
        assert worker != detached
        before = {t.ident for t in threading.enumerate()}
        release.set()
        eventually(lambda: detached not in {t.ident for t in threading.enumerate()})
        assert pool._workers == 1 and detached in before
        assert _run(pool) == worker
    finally:
        pool.shutdown()


def test_shutdown_ends_idle_and_rejoining_threads():
    pool = WorkerPool(2, "test-pool")
    release = threading.Event()
    detached = _run(pool, detach=True, hold=release)
    idle = _run(pool)
    pool.shutdown()
    release.set()
    alive = lambda: {t.ident for t in threading.enumerate()} & {detached, idle}  # noqa: E731
    eventually(lambda: not alive())

"""Threads: jobs on daemon threads, a finished thread reused, idle ones bounded and ending."""

from __future__ import annotations

import threading

from dockyard.threads import Threads
from tests.polling import eventually


def _spawned(pool: Threads, name: str = "job") -> tuple[int, str]:
    """Run one job and return (its thread's ident, the name that thread had)."""
    seen: list[tuple[int, str, bool]] = []
    done = threading.Event()

    def job() -> None:
        current = threading.current_thread()
        seen.append((threading.get_ident(), current.name, current.daemon))
        done.set()

    pool.spawn(job, name=name)
    assert done.wait(5)
    ident, named, daemon = seen[0]
    assert daemon
    return ident, named


def test_a_job_after_one_that_ended_runs_on_the_same_thread_under_its_own_name():
    pool = Threads(linger=5)
    first, name = _spawned(pool, "first")
    assert name == "first"
    eventually(lambda: pool.idle == 1)
    assert next(t.name for t in threading.enumerate() if t.ident == first) == "idle"
    assert _spawned(pool, "second") == (first, "second")


def test_arguments_reach_the_job_and_a_failing_job_does_not_end_the_thread():
    pool = Threads(linger=5)
    got = []
    pool.spawn(lambda a, b: got.append((a, b, threading.get_ident())), 1, "two")
    eventually(lambda: len(got) == 1 and pool.idle == 1)
    assert got[0][:2] == (1, "two")
    pool.spawn(lambda: 1 / 0, name="fails")
    eventually(lambda: pool.idle == 1)
    assert _spawned(pool)[0] == got[0][2]


def test_idle_threads_are_bounded_and_end_after_lingering():
    pool = Threads(linger=3, max_idle=2)
    release = threading.Event()
    mine = {threading.get_ident()}

    def job() -> None:
        mine.add(threading.get_ident())
        release.wait(5)

    for _ in range(4):
        pool.spawn(job)
    eventually(lambda: len(mine) == 5)
    release.set()
    alive = lambda: {t.ident for t in threading.enumerate()} & mine  # noqa: E731
    eventually(lambda: len(alive()) == 3)  # the other two ended at once: two idle, and us
    assert pool.idle == 2
    eventually(lambda: len(alive()) == 1, timeout=8)  # these after lingering
    assert pool.idle == 0


def test_with_a_spare_a_spawn_hands_its_job_to_a_thread_started_before():
    pool = Threads(linger=5, spare=True)
    release = threading.Event()
    ran: list[int] = []

    def job() -> None:
        ran.append(threading.get_ident())
        release.wait(5)

    others = {t.ident for t in threading.enumerate()}  # other tests' pools linger too
    pool.spawn(job)  # no thread waits yet: this one is started here, and starts the spare
    eventually(lambda: len(ran) == 1 and pool.idle == 1)
    spare = next(t.ident for t in threading.enumerate() if t.name == "idle" and t.ident not in others | {ran[0]})
    pool.spawn(job)
    eventually(lambda: len(ran) == 2)
    assert ran[1] == spare  # the spare took it; it started the next spare before running it
    eventually(lambda: pool.idle == 1)  # and the next spare waits
    assert any(t.name == "idle" and t.ident not in others | {ran[0], spare} for t in threading.enumerate())
    release.set()


def test_a_spare_that_cannot_start_promises_nothing(monkeypatch):
    pool = Threads(linger=5, spare=True)
    real = threading.Thread

    class NoSpare(real):
        def start(self) -> None:
            if self.name == "idle":
                raise RuntimeError("can't start new thread")
            super().start()

    monkeypatch.setattr(threading, "Thread", NoSpare)
    ran = threading.Event()
    pool.spawn(ran.set)
    assert ran.wait(5)
    eventually(lambda: pool.idle == 1)  # the job's own thread, idle after its job: no spare counted
    again = threading.Event()
    pool.spawn(again.set)
    assert again.wait(5)

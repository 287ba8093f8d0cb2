"""`docker wait` conditions over the fakes: not-running, next-exit, removed."""

from __future__ import annotations

import threading

import pytest

from dockyard.errors import InvalidArgument


def waiting(engine, ref: str, condition: str) -> tuple[threading.Thread, dict]:
    result: dict = {}
    thread = threading.Thread(target=lambda: result.update(engine.containers.wait(ref, condition)), daemon=True)
    thread.start()
    thread.join(0.2)
    return thread, result


def test_not_running_returns_at_once_for_a_stopped_container(engine):
    engine.containers.create("idle", {"Image": "busybox"}, {}, None)
    assert engine.containers.wait("idle", "not-running") == {"StatusCode": 0, "Error": None}
    assert engine.containers.wait("idle", "") == {"StatusCode": 0, "Error": None}


def test_not_running_waits_for_the_exit(engine):
    engine.run("sleep", "1000", name="web")
    thread, result = waiting(engine, "web", "not-running")
    assert thread.is_alive()
    engine.runtime.exit(engine.state_dir("web"), 7)
    thread.join(5)
    assert result == {"StatusCode": 7, "Error": None}


def test_next_exit_waits_for_the_next_run_to_end(engine):
    engine.run("sleep", "1000", name="web")
    engine.containers.stop("web", 0, None)
    thread, result = waiting(engine, "web", "next-exit")
    assert thread.is_alive()  # already exited, but that exit is not the next one
    engine.containers.start("web")
    engine.runtime.exit(engine.state_dir("web"), 4)
    thread.join(5)
    assert result == {"StatusCode": 4, "Error": None}


def test_removed_waits_for_rm_and_reports_the_last_exit(engine):
    engine.run("sleep", "1000", name="web")
    thread, result = waiting(engine, "web", "removed")
    engine.runtime.exit(engine.state_dir("web"), 3)
    thread.join(0.2)
    assert thread.is_alive()  # exited is not removed
    engine.containers.remove("web", force=False, volumes=False)
    thread.join(5)
    assert result == {"StatusCode": 3, "Error": None}


def test_an_unknown_condition_is_invalid(engine):
    engine.containers.create("idle", {"Image": "busybox"}, {}, None)
    with pytest.raises(InvalidArgument, match="^invalid condition: bogus$"):
        engine.containers.wait("idle", "bogus")


def test_a_cancelled_wait_gives_up(engine):
    engine.run("sleep", "1000", name="web")
    result = engine.containers.wait("web", "not-running", cancelled=lambda: True)
    assert engine.containers.inspect("web")["State"]["Running"] and result["StatusCode"] == 0


def test_a_next_exit_wait_counts_from_when_it_began_not_when_it_blocks(engine):
    """The API begins the wait before its headers go out (docker run starts the container on
    them) and blocks after: an exit in between is the next one."""
    engine.run("sleep", "1000", name="web")
    finish = engine.containers.begin_wait("web", "next-exit")
    engine.runtime.exit(engine.state_dir("web"), 5)
    result: dict = {}
    thread = threading.Thread(target=lambda: result.update(finish(None)), daemon=True)
    thread.start()
    thread.join(5)
    assert result == {"StatusCode": 5, "Error": None}


def test_begin_wait_refuses_a_missing_container_at_once(engine):
    from dockyard.errors import NoSuchContainer

    with pytest.raises(NoSuchContainer):
        engine.containers.begin_wait("nope", "not-running")

"""Restart policies and Docker's back-off, over the fakes with an injected clock and sleep."""

from __future__ import annotations

import pytest

from dockyard.engine.containers.restarts import BACKOFF_MAX, next_delay, should_restart
from tests.polling import eventually


def test_the_backoff_doubles_from_100ms_to_a_minute_and_resets_after_a_10s_run():
    delays, previous = [], 0.0
    for _ in range(12):
        previous = next_delay(previous, ran_for=0.5)
        delays.append(previous)
    assert delays == [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 60.0, 60.0]
    assert next_delay(BACKOFF_MAX, ran_for=9.99) == BACKOFF_MAX
    assert next_delay(BACKOFF_MAX, ran_for=10.0) == 0.1


@pytest.mark.parametrize(
    ("policy", "exit_code", "count", "stopped", "expected"),
    [
        ({"Name": "no"}, 1, 0, False, False),
        ({}, 1, 0, False, False),
        ({"Name": "on-failure"}, 0, 0, False, False),
        ({"Name": "on-failure"}, 1, 100, False, True),
        ({"Name": "on-failure", "MaximumRetryCount": 2}, 1, 1, False, True),
        ({"Name": "on-failure", "MaximumRetryCount": 2}, 1, 2, False, False),
        ({"Name": "always"}, 0, 5, False, True),
        ({"Name": "always"}, 0, 0, True, False),
        ({"Name": "unless-stopped"}, 3, 0, False, True),
        ({"Name": "unless-stopped"}, 3, 0, True, False),
    ],
)
def test_should_restart(policy, exit_code, count, stopped, expected):
    assert should_restart(policy, exit_code, count, stopped) is expected


def exit_and_settle(engine, ref: str, code: int, restarts: int) -> None:
    """The process exits with `code`; wait until the engine has restarted it `restarts` times."""
    engine.runtime.exit(engine.state_dir(ref), code)
    eventually(
        lambda: (
            engine.containers.inspect(ref)["RestartCount"] == restarts
            and engine.containers.inspect(ref)["State"]["Status"] in ("running", "exited")
        )
    )


def test_on_failure_with_a_maximum_gives_up_after_it(engine):
    engine.run("sleep", "1000", name="job", RestartPolicy={"Name": "on-failure", "MaximumRetryCount": 2})
    exit_and_settle(engine, "job", 1, 1)
    exit_and_settle(engine, "job", 1, 2)
    engine.runtime.exit(engine.state_dir("job"), 1)
    eventually(lambda: engine.containers.inspect("job")["State"]["Status"] == "exited")
    state = engine.containers.inspect("job")
    assert (state["RestartCount"], state["State"]["ExitCode"]) == (2, 1)
    assert engine.sleeps.delays == [0.1, 0.2]


def test_on_failure_does_not_restart_a_clean_exit(engine):
    engine.run("sleep", "1000", name="job", RestartPolicy={"Name": "on-failure"})
    engine.runtime.exit(engine.state_dir("job"), 0)
    assert engine.containers.wait("job", "not-running")["StatusCode"] == 0
    assert engine.containers.inspect("job")["RestartCount"] == 0 and engine.sleeps.delays == []


@pytest.mark.parametrize("policy", ["always", "unless-stopped"])
def test_always_and_unless_stopped_restart_any_exit_but_not_a_stop(engine, policy):
    engine.run("sleep", "1000", name="svc", RestartPolicy={"Name": policy})
    exit_and_settle(engine, "svc", 0, 1)
    assert engine.containers.inspect("svc")["State"]["Status"] == "running"
    engine.containers.stop("svc", 0, None)
    state = engine.containers.inspect("svc")
    assert (state["State"]["Status"], state["RestartCount"]) == ("exited", 1)
    assert engine.runtime.running() == []


def test_no_policy_never_restarts(engine):
    engine.run("sleep", "1000", name="once")
    engine.runtime.exit(engine.state_dir("once"), 1)
    engine.containers.wait("once", "not-running")
    assert engine.containers.inspect("once")["RestartCount"] == 0 and engine.sleeps.delays == []


def test_the_engine_backs_off_and_starts_over_after_a_long_run(engine):
    engine.run("sleep", "1000", name="flappy", RestartPolicy={"Name": "always"})
    for count in (1, 2, 3):
        exit_and_settle(engine, "flappy", 1, count)
    engine.clock.advance(10)  # this run lasts 10 s: the back-off starts over
    exit_and_settle(engine, "flappy", 1, 4)
    exit_and_settle(engine, "flappy", 1, 5)
    assert engine.sleeps.delays == [0.1, 0.2, 0.4, 0.1, 0.2]


def test_a_stop_during_the_backoff_cancels_the_restart(engine):
    engine.sleeps.open.clear()  # the back-off sleeps until released
    engine.run("sleep", "1000", name="svc", RestartPolicy={"Name": "always"})
    engine.runtime.exit(engine.state_dir("svc"), 1)
    eventually(lambda: engine.containers.inspect("svc")["State"]["Status"] == "restarting")
    engine.containers.stop("svc", None, None)
    engine.sleeps.open.set()
    assert engine.containers.inspect("svc")["State"]["Status"] == "exited"
    assert engine.runtime.running() == []


def test_a_user_start_resets_the_restart_count(engine):
    engine.run("sleep", "1000", name="svc", RestartPolicy={"Name": "on-failure"})
    exit_and_settle(engine, "svc", 1, 1)
    engine.containers.stop("svc", 0, None)
    engine.containers.start("svc")
    assert engine.containers.inspect("svc")["RestartCount"] == 0

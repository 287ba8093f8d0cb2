"""Health checks over the fakes: the pure state machine, probes run as execs by the monitor,
State.Health in inspect, health_status events, ps's `(healthy)` and the health filter."""

from __future__ import annotations

import time

import pytest

from dockyard.engine.containers import health
from dockyard.engine.containers.config import merge_config
from dockyard.errors import InvalidArgument
from dockyard.testing import Program
from tests.polling import eventually

MS = 1_000_000


def _result(code: int) -> health.ProbeResult:
    return health.ProbeResult("s", "e", code, "out")


def test_record_moves_status_like_dockerd():
    state = health.fresh()
    health.record(state, _result(1), in_start_period=True, retries=2)
    assert (state["Status"], state["FailingStreak"]) == ("starting", 0)  # start period: not counted
    health.record(state, _result(1), in_start_period=False, retries=2)
    assert (state["Status"], state["FailingStreak"]) == ("starting", 1)
    health.record(state, _result(1), in_start_period=False, retries=2)
    assert (state["Status"], state["FailingStreak"]) == ("unhealthy", 2)
    health.record(state, _result(0), in_start_period=False, retries=2)
    assert (state["Status"], state["FailingStreak"]) == ("healthy", 0)
    health.record(state, _result(1), in_start_period=True, retries=2)  # after a success the period is over
    assert state["FailingStreak"] == 1
    for _ in range(5):
        health.record(state, _result(0), False, 2)
    assert len(state["Log"]) == health.MAX_LOG_ENTRIES
    assert state["Log"][0] == {"Start": "s", "End": "e", "ExitCode": 0, "Output": "out"}


def test_check_of_resolves_the_command_and_dockerds_defaults():
    check = health.check_of({"Healthcheck": {"Test": ["CMD-SHELL", "curl -f x"]}})
    assert check == health.Check(["/bin/sh", "-c", "curl -f x"], 30.0, 30.0, 0.0, 5.0, 3)
    assert health.check_of({"Healthcheck": {"Test": ["NONE"]}}) is None
    assert health.check_of({}) is None
    assert health.check_of({"Healthcheck": {"Test": ["CMD", "true"], "Interval": 2 * 10**9}}).interval == 2.0


def test_the_image_healthcheck_is_inherited_field_by_field_and_none_disables_it():
    image = {"Cmd": ["sh"], "Healthcheck": {"Test": ["CMD", "true"], "Interval": 10 * 10**9, "Retries": 5}}
    merged = merge_config({"Healthcheck": {"Interval": 2 * 10**9}}, image)["Healthcheck"]
    assert merged == {"Test": ["CMD", "true"], "Interval": 2 * 10**9, "Retries": 5}
    assert health.check_of(merge_config({"Healthcheck": {"Test": ["NONE"]}}, image)) is None


@pytest.mark.parametrize(
    ("check", "message"),
    [
        ({"Interval": 10}, "Interval in Healthcheck cannot be less than 1ms"),
        ({"Retries": -1}, "Retries in Healthcheck cannot be negative"),
        ({"Test": ["BOGUS", "x"]}, "unknown Healthcheck type 'BOGUS'"),
    ],
)
def test_bad_healthchecks_are_refused(engine, check, message):
    with pytest.raises(InvalidArgument, match=message):
        engine.containers.create(None, {"Image": "busybox", "Cmd": ["sleep", "1"], "Healthcheck": check}, {}, None)


def _run(engine, check: dict) -> str:
    config = {"Image": "busybox", "Cmd": ["sleep", "1000"], "Healthcheck": check}
    container_id = engine.containers.create(None, config, {}, None)["Id"]
    engine.containers.start(container_id)
    return container_id


def _health(engine, ref: str) -> dict:
    return engine.containers.inspect(ref)["State"].get("Health") or {}


def _actions(engine) -> list[str]:
    return [e["Action"] for e in engine.events.subscribe(0, time.time(), {"type": ["container"]})]


def test_a_passing_probe_makes_it_healthy_with_event_ps_and_filter(engine):
    container_id = _run(engine, {"Test": ["CMD", "echo", "fine"], "Interval": 300 * MS})
    assert _health(engine, container_id)["Status"] == "starting"
    assert "(health: starting)" in engine.containers.list(False, None, False, {})[0]["Status"]
    eventually(lambda: _health(engine, container_id).get("Status") == "healthy")
    entry = _health(engine, container_id)["Log"][0]
    assert (entry["ExitCode"], entry["Output"]) == (0, "fine\n")
    eventually(lambda: "health_status: healthy" in _actions(engine))
    assert engine.containers.list(False, None, False, {})[0]["Status"].endswith("(healthy)")
    assert [c["Id"] for c in engine.containers.list(False, None, False, {"health": ["healthy"]})] == [container_id]
    assert engine.containers.list(False, None, False, {"health": ["unhealthy"]}) == []


def test_failing_probes_make_it_unhealthy_after_the_retries(engine):
    container_id = _run(engine, {"Test": ["CMD", "false"], "Interval": 20 * MS, "Retries": 2})
    eventually(lambda: _health(engine, container_id).get("Status") == "unhealthy")
    state = _health(engine, container_id)
    assert state["FailingStreak"] >= 2 and state["Log"][-1]["ExitCode"] == 1
    eventually(lambda: _actions(engine).count("health_status: unhealthy") == 1)  # once, on the change
    assert engine.containers.list(False, None, False, {})[0]["Status"].endswith("(unhealthy)")


def test_a_probe_past_its_timeout_is_killed_and_fails(engine):
    container_id = _run(engine, {"Test": ["CMD", "sleep", "100"], "Interval": 20 * MS, "Timeout": 50 * MS})
    eventually(lambda: _health(engine, container_id).get("Log"))
    entry = _health(engine, container_id)["Log"][0]
    assert (entry["ExitCode"], entry["Output"]) == (-1, "Health check exceeded timeout (50ms)")


def test_failures_inside_the_start_period_do_not_count(engine):
    check = {"Test": ["CMD", "false"], "Interval": 3600 * 10**9, "StartPeriod": 60 * 10**9, "Retries": 1}
    container_id = _run(engine, check)
    container, monitor = engine.containers.get(container_id), engine.containers.lifecycle.health
    resolved = health.check_of(container.config)
    monitor.probe_once(container, resolved)
    assert (_health(engine, container_id)["Status"], _health(engine, container_id)["FailingStreak"]) == ("starting", 0)
    engine.clock.advance(61)
    monitor.probe_once(container, resolved)
    assert _health(engine, container_id)["Status"] == "unhealthy"


def test_probes_stop_with_the_container_and_none_disables(engine):
    engine.runtime.programs["probe"] = lambda args: Program(exit_code=0)
    container_id = _run(engine, {"Test": ["CMD", "true"], "Interval": 20 * MS})
    eventually(lambda: _health(engine, container_id).get("Status") == "healthy")
    engine.containers.stop(container_id, 0, None)
    count = len(_health(engine, container_id)["Log"])
    time.sleep(0.1)
    assert len(_health(engine, container_id)["Log"]) == count
    disabled = _run(engine, {"Test": ["NONE"]})
    assert "Health" not in engine.containers.inspect(disabled)["State"]
    assert [c["Id"] for c in engine.containers.list(False, None, False, {"health": ["none"]})] == [disabled]

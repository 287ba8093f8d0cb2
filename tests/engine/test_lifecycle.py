"""The container state machine over the fakes: create, start, stop, kill, pause, rm, and the
refusals of invalid transitions in Docker's words."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from dockyard.errors import Conflict, InvalidArgument, NoSuchContainer, NotFound, NotModified
from dockyard.testing import Program
from tests.polling import eventually


def status(engine, ref: str) -> str:
    return engine.containers.inspect(ref)["State"]["Status"]


def actions(engine) -> list[str]:
    return [e["Action"] for e in engine.events.subscribe(0, time.time(), {"type": ["container"]})]


def test_create_start_stop_start_again(engine):
    container_id = engine.containers.create("web", {"Image": "busybox", "Cmd": ["sleep", "1000"]}, {}, None)["Id"]
    assert status(engine, "web") == "created" and engine.runtime.running() == []
    engine.containers.start("web")
    state = engine.containers.inspect("web")["State"]
    assert (state["Status"], state["Pid"]) == ("running", engine.runtime.state(engine.state_dir("web")).pid)
    assert engine.runtime.task_args(engine.state_dir("web")) == ["sleep", "1000"]
    engine.containers.stop("web", 0, None)
    state = engine.containers.inspect(container_id)["State"]
    assert (state["Status"], state["ExitCode"], state["Pid"]) == ("exited", 137, 0)
    assert not engine.snapshots.is_mounted(container_id)  # a stopped container keeps no mount
    engine.containers.start("web")
    assert status(engine, "web") == "running" and engine.snapshots.is_mounted(container_id)
    engine.containers.kill("web", None)
    eventually(lambda: actions(engine)[-1] == "die")
    assert status(engine, "web") == "exited"
    # stop -t 0: the stop signal, then SIGKILL at once; each is a kill event, as in Docker
    assert actions(engine) == ["create", "start", "kill", "kill", "die", "stop", "start", "kill", "die"]


def test_a_process_exiting_on_its_own_is_recorded(engine):
    engine.run("sleep", "1000", name="job")
    engine.runtime.exit(engine.state_dir("job"), 3)
    assert engine.containers.wait("job", "not-running") == {"StatusCode": 3, "Error": None}
    state = engine.containers.inspect("job")["State"]
    assert (state["Status"], state["ExitCode"], state["Running"]) == ("exited", 3, False)
    assert state["FinishedAt"] >= state["StartedAt"]


def test_invalid_transitions_are_refused_in_dockers_words(engine):
    container_id = engine.containers.create("web", {"Image": "busybox", "Cmd": ["sleep", "1"]}, {}, None)["Id"]
    with pytest.raises(NotModified):
        engine.containers.stop("web", None, None)
    with pytest.raises(Conflict, match=f"^Cannot kill container: web: Container {container_id} is not running$"):
        engine.containers.kill("web", None)
    with pytest.raises(Conflict, match=f"^Container {container_id} is not running$"):
        engine.containers.pause("web")
    with pytest.raises(Conflict, match=f"^Container {container_id} is not paused$"):
        engine.containers.unpause("web")
    engine.containers.start("web")
    with pytest.raises(NotModified):
        engine.containers.start("web")
    with pytest.raises(Conflict) as refused:
        engine.containers.remove("web", force=False, volumes=False)
    assert str(refused.value) == (
        'cannot remove container "/web": container is running: stop the container before removing or force remove'
    )
    with pytest.raises(NoSuchContainer, match="^No such container: ghost$"):
        engine.containers.start("ghost")


def test_pause_and_unpause(engine):
    container_id = engine.run("sleep", "1000", name="web")
    engine.containers.pause("web")
    assert status(engine, "web") == "paused" and engine.runtime.is_paused(engine.state_dir("web"))
    with pytest.raises(Conflict, match=f"^Container {container_id} is already paused$"):
        engine.containers.pause("web")
    with pytest.raises(Conflict, match="^cannot start a paused container, try unpause instead$"):
        engine.containers.start("web")
    with pytest.raises(Conflict, match="container is paused"):
        engine.containers.remove("web", force=False, volumes=False)
    engine.containers.unpause("web")
    assert status(engine, "web") == "running" and not engine.runtime.is_paused(engine.state_dir("web"))


def test_stop_of_a_paused_container_thaws_it_first(engine):
    engine.runtime.programs["service"] = lambda args: Program(handles=frozenset({signal.SIGTERM}))
    engine.run("service", name="web")
    engine.containers.pause("web")
    engine.containers.stop("web", 10, None)
    assert engine.containers.inspect("web")["State"]["ExitCode"] == 143


def test_rm_and_rm_force(engine):
    engine.containers.create("idle", {"Image": "busybox"}, {}, None)
    idle_dir = engine.state_dir("idle")
    engine.containers.remove("idle", force=False, volumes=False)
    assert not idle_dir.exists()
    with pytest.raises(NoSuchContainer):
        engine.containers.inspect("idle")
    container_id = engine.run("sleep", "1000", name="busy")
    engine.containers.remove("busy", force=True, volumes=False)
    assert engine.runtime.running() == [] and not engine.root.container(container_id).exists()
    assert [c.id for c in engine.containers.all()] == []
    assert actions(engine)[-3:] == ["kill", "die", "destroy"]


def test_stop_sends_the_stop_signal_and_waits_the_timeout_before_sigkill(engine):
    engine.runtime.programs["service"] = lambda args: Program(handles=frozenset({signal.SIGTERM}))
    engine.run("service", name="polite")
    engine.containers.stop("polite", 30, None)
    assert engine.containers.inspect("polite")["State"]["ExitCode"] == 143  # SIGTERM was enough
    engine.containers.create("custom", {"Image": "busybox", "Cmd": ["sleep", "1"], "StopSignal": "SIGKILL"}, {}, None)
    engine.containers.start("custom")
    engine.containers.stop("custom", 30, None)
    assert engine.containers.inspect("custom")["State"]["ExitCode"] == 137


@pytest.mark.parametrize("timeout", [0, 1])
def test_stop_with_a_short_timeout_kills_an_init_that_ignores_sigterm(engine, timeout):
    engine.run("sleep", "1000", name="stubborn")
    engine.containers.stop("stubborn", timeout, None)
    assert engine.containers.inspect("stubborn")["State"]["ExitCode"] == 137


@pytest.mark.parametrize("timeout", [-1, 10**12])
def test_stop_with_a_negative_or_huge_timeout_waits_for_the_exit(engine, timeout):
    engine.run("sleep", "1000", name="stubborn")
    stopper = threading.Thread(target=engine.containers.stop, args=("stubborn", timeout, None))
    stopper.start()
    stopper.join(0.3)
    assert stopper.is_alive() and status(engine, "stubborn") == "running"  # no SIGKILL
    engine.runtime.exit(engine.state_dir("stubborn"), 0)
    stopper.join(5)
    assert not stopper.is_alive() and status(engine, "stubborn") == "exited"


def test_kill_with_a_signal_the_process_ignores_leaves_it_running(engine):
    engine.run("sleep", "1000", name="web")
    engine.containers.kill("web", "SIGUSR1")
    assert status(engine, "web") == "running"
    with pytest.raises(InvalidArgument, match="Invalid signal: SIGNOPE"):
        engine.containers.kill("web", "SIGNOPE")
    with pytest.raises(
        InvalidArgument, match="^Cannot kill container: web: The linux daemon does not support signal 999$"
    ):
        engine.containers.kill("web", "999")
    assert status(engine, "web") == "running"


def test_a_missing_executable_leaves_the_container_created_with_127(engine):
    engine.containers.create("bad", {"Image": "busybox", "Cmd": ["nosuch"]}, {}, None)
    with pytest.raises(Exception, match='exec: "nosuch": executable file not found in \\$PATH'):
        engine.containers.start("bad")
    state = engine.containers.inspect("bad")["State"]
    assert (state["Status"], state["ExitCode"]) == ("created", 127)
    assert "executable file not found" in state["Error"]


def test_restart_of_a_running_container_runs_it_again(engine):
    engine.run("sleep", "1000", name="web")
    first = engine.runtime.state(engine.state_dir("web")).pid
    engine.containers.restart("web", 0, None)
    assert status(engine, "web") == "running" and engine.runtime.state(engine.state_dir("web")).pid != first
    assert actions(engine)[-3:] == ["die", "start", "restart"]


def test_auto_remove_removes_the_container_once_it_exits(engine):
    engine.run("sleep", "1000", name="temp", AutoRemove=True)
    engine.runtime.exit(engine.state_dir("temp"), 0)
    eventually(lambda: engine.containers.all() == [])


def test_an_auto_removed_exit_is_not_saved_before_the_record_goes(engine, monkeypatch):
    """`run --rm`: the exit goes straight to removal, one database commit fewer."""
    engine.run("sleep", "1000", name="temp", AutoRemove=True)
    saved = []
    store = engine.containers.store
    monkeypatch.setattr(store, "save", lambda c, save=store.save: saved.append(c.state.status) or save(c))
    engine.runtime.exit(engine.state_dir("temp"), 3)
    eventually(lambda: engine.containers.all() == [])
    assert saved == [] and "die" in actions(engine)


def test_start_restores_network_files_a_power_loss_emptied(engine):
    """hostname, hosts and resolv.conf are written without fsync at create; start remakes them."""
    engine.run("sleep", "1000", name="web")
    engine.containers.stop("web", 0, None)
    directory = engine.state_dir("web")
    hostname = (directory / "hostname").read_text()
    (directory / "hosts").write_text("")
    (directory / "resolv.conf").unlink()
    engine.containers.start("web")
    assert (directory / "hostname").read_text() == hostname
    assert "localhost" in (directory / "hosts").read_text() and (directory / "resolv.conf").exists()


def test_a_start_with_nothing_between_create_and_start_is_one_step(engine):
    """No network to wire, no attacher, no terminal size: the runtime creates and starts at once."""
    engine.run("sleep", "1000", name="web")
    assert engine.runtime.runs == 1 and status(engine, "web") == "running"
    assert actions(engine)[-1] == "start"


def test_a_waiting_attacher_gets_the_output_from_a_two_step_start(engine):
    engine.runtime.programs["echo"] = lambda args: Program(stdout=b"hello\n", exit_code=0)
    engine.containers.create("web", {"Image": "busybox", "Cmd": ["echo"]}, {}, None)
    stream = engine.containers.attach("web", False, True, True, logs=False, stream=True)
    engine.containers.start("web")
    assert engine.runtime.runs == 0
    assert b"hello" in stream.recv(100)
    stream.close()


def test_a_terminal_size_is_set_between_create_and_start(engine):
    config = {"Image": "busybox", "Cmd": ["sleep", "1000"], "Tty": True}
    engine.containers.create("web", config, {"ConsoleSize": [40, 120]}, None)
    engine.containers.start("web")
    assert engine.runtime.runs == 0 and engine.runtime.resizes(engine.state_dir("web")) == [(40, 120)]


def test_a_network_to_wire_is_wired_before_the_process_starts(tmp_path):
    from dockyard.engine.containers.networking import LoopbackOnly
    from tests.engine.harness import build_engine

    seen = []

    class Wiring(LoopbackOnly):
        def wires(self, container):
            return True

        def connect(self, container, pid):
            seen.append(built.runtime.state(built.root.container(container.id)).status)
            return {}

    built = build_engine(tmp_path)
    try:
        built.containers.networking = built.containers.lifecycle.networking = Wiring()
        built.run("sleep", "1000", name="web")
        assert seen == ["created"] and built.runtime.runs == 0
    finally:
        built.close()


def test_a_network_failing_after_a_one_step_start_leaves_no_process_running(tmp_path):
    from dockyard.engine.containers.networking import LoopbackOnly
    from dockyard.errors import RuntimeFailure
    from tests.engine.harness import build_engine

    class Failing(LoopbackOnly):
        def connect(self, container, pid):
            raise RuntimeFailure("no settings")

    built = build_engine(tmp_path)
    try:
        built.containers.networking = built.containers.lifecycle.networking = Failing()
        built.containers.create("web", {"Image": "busybox", "Cmd": ["sleep", "1000"]}, {}, None)
        with pytest.raises(RuntimeFailure):
            built.containers.start("web")
        assert built.runtime.runs == 1
        with pytest.raises(NotFound):  # killed, then deleted with the failed start
            built.runtime.state(built.state_dir("web"))
        assert status(built, "web") == "created"
    finally:
        built.close()

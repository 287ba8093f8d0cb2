"""`docker exec` over the fakes: create, start (attached and detached), inspect, exit codes."""

from __future__ import annotations

import pytest

from dockyard.errors import Conflict, InvalidArgument, NoSuchExec, NotFound, RuntimeFailure
from dockyard.multiplex import FrameDecoder


def read_all(stream) -> list[tuple[int, bytes]]:
    decoder, frames = FrameDecoder(), []
    while chunk := stream.recv(65536):
        frames += decoder.feed(chunk)
    stream.close()
    return frames


def exec_dir(engine, exec_id: str):
    record = engine.execs.exec_inspect(exec_id)
    return engine.root.exec_dir(record["ContainerID"], exec_id)


def test_attached_exec_streams_its_output_and_records_its_exit(engine):
    engine.run("sleep", "1000", name="web")
    exec_id = engine.execs.exec_create("web", {"Cmd": ["echo", "hi", "there"], "AttachStdout": True})["Id"]
    stream = engine.execs.exec_start(exec_id, detach=False, tty=False).open()
    assert read_all(stream) == [(1, b"hi there\n")]
    inspected = engine.execs.exec_inspect(exec_id)
    assert (inspected["Running"], inspected["ExitCode"]) == (False, 0)
    assert inspected["Pid"] > 0  # kept after the exit, as dockerd shows it
    assert inspected["ProcessConfig"]["entrypoint"] == "echo"


def test_detached_exec_runs_until_it_exits(engine):
    engine.run("sleep", "1000", name="web")
    exec_id = engine.execs.exec_create("web", {"Cmd": ["sleep", "5"]})["Id"]
    assert engine.execs.exec_start(exec_id, detach=True, tty=False) is None
    running = engine.execs.exec_inspect(exec_id)
    assert running["Running"] and running["ExitCode"] is None and running["Pid"] > 0
    assert running["Pid"] in engine.runtime.pids(engine.state_dir("web"))
    engine.execs.exec_resize(exec_id, 30, 100)  # while it runs
    engine.runtime.exit(exec_dir(engine, exec_id), 5)
    assert engine.execs.exec_inspect(exec_id)["ExitCode"] == 5
    with pytest.raises(NotFound, match="^no such exec$"):  # as dockerd, once it has ended
        engine.execs.exec_resize(exec_id, 30, 100)


def test_an_exec_starts_once(engine):
    engine.run("sleep", "1000", name="web")
    exec_id = engine.execs.exec_create("web", {"Cmd": ["true"]})["Id"]
    engine.execs.exec_start(exec_id, detach=True, tty=False)
    with pytest.raises(Conflict, match=f"^Error: Exec command {exec_id} (has already run|is already running)$"):
        engine.execs.exec_start(exec_id, detach=True, tty=False)


def test_exec_needs_a_running_container_and_a_command(engine):
    container_id = engine.containers.create("idle", {"Image": "busybox"}, {}, None)["Id"]
    with pytest.raises(Conflict, match=f"^Container {container_id} is not running$"):
        engine.execs.exec_create("idle", {"Cmd": ["true"]})
    engine.run("sleep", "1000", name="web")
    with pytest.raises(InvalidArgument, match="^No exec command specified$"):
        engine.execs.exec_create("web", {"Cmd": []})
    engine.containers.pause("web")
    with pytest.raises(Conflict, match="^Container web is paused, unpause the container before exec$"):  # as asked
        engine.execs.exec_create("web", {"Cmd": ["true"]})
    with pytest.raises(NoSuchExec, match="^No such exec instance: nope$"):
        engine.execs.exec_inspect("nope")


def test_a_missing_executable_is_126_as_dockerds_exec(engine):
    engine.run("sleep", "1000", name="web")
    exec_id = engine.execs.exec_create("web", {"Cmd": ["nosuch"]})["Id"]
    with pytest.raises(RuntimeFailure, match="executable file not found"):
        engine.execs.exec_start(exec_id, detach=True, tty=False)
    assert engine.execs.exec_inspect(exec_id)["ExitCode"] == 126
    attached = engine.execs.exec_create("web", {"Cmd": ["nosuch"], "AttachStdout": True})["Id"]
    frames = read_all(engine.execs.exec_start(attached, detach=False, tty=False).open())
    assert frames[0][0] == 1 and b"OCI runtime exec failed" in frames[0][1]  # on stdout, as dockerd

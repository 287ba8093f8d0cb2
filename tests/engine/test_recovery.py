"""ContainerService.recover() after a daemon restart, over the same database and fake runtime."""

from __future__ import annotations

import json
import threading
import time

import pytest

from dockyard.errors import NotFound
from dockyard.metadata.db import Database
from dockyard.testing import FakeRuntime
from tests.polling import eventually


def test_a_container_still_running_is_watched_again(engine):
    engine.run("sleep", "1000", name="web")
    engine.restart()
    state = engine.containers.inspect("web")["State"]
    assert state["Status"] == "running" and state["Pid"] == engine.runtime.state(engine.state_dir("web")).pid
    engine.runtime.exit(engine.state_dir("web"), 9)
    assert engine.containers.wait("web", "not-running")["StatusCode"] == 9
    engine.containers.start("web")  # and its lifecycle goes on
    assert engine.containers.inspect("web")["State"]["Running"]


def test_an_exit_while_no_daemon_watched_is_recorded(engine):
    engine.run("sleep", "1000", name="web")
    engine.stop_daemon()
    engine.runtime.exit(engine.root.container(_only_id(engine)), 4)
    engine.start_daemon()
    state = engine.containers.inspect("web")["State"]
    assert (state["Status"], state["ExitCode"]) == ("exited", 4)


def test_a_daemon_stopped_right_after_a_start_hears_no_more_of_it(engine):
    """The run's exit is watched from the start (Runtime.watch), so even a daemon stopped before
    its watcher's thread ran never hears the exit: only the next daemon records it."""
    engine.run("sleep", "1000", name="web")
    old = engine.containers.get("web")
    engine.stop_daemon()
    engine.runtime.exit(engine.root.container(old.id), 4)
    time.sleep(0.2)  # what an old watcher would have done by now
    assert old.state.status == "running"
    engine.start_daemon()
    state = engine.containers.inspect("web")["State"]
    assert (state["Status"], state["ExitCode"]) == ("exited", 4)


def test_the_fakes_watch_begun_before_abandon_waits_is_never_answered(engine):
    """The fake takes a watch's task and epoch when it is begun, as the shim takes the request."""
    engine.run("sleep", "1000", name="web")
    exit_of = engine.runtime.watch(engine.state_dir("web"))
    engine.runtime.abandon_waits()
    engine.runtime.exit(engine.state_dir("web"), 4)
    asked = threading.Thread(target=exit_of, daemon=True)  # blocks for good: the fake's abandoned waits do
    asked.start()
    asked.join(0.3)
    assert asked.is_alive()


@pytest.mark.parametrize(("policy", "restarted"), [("always", True), ("unless-stopped", True), ("no", False)])
def test_an_exit_while_no_daemon_watched_follows_the_restart_policy(engine, policy, restarted):
    engine.run("sleep", "1000", name="web", RestartPolicy={"Name": policy})
    engine.stop_daemon()
    engine.runtime.exit(engine.root.container(_only_id(engine)), 1)
    engine.start_daemon()
    if restarted:
        eventually(lambda: engine.containers.inspect("web")["State"]["Status"] == "running")
        assert engine.containers.inspect("web")["RestartCount"] == 1
    else:
        assert engine.containers.inspect("web")["State"]["Status"] == "exited"


def test_an_auto_remove_container_that_exited_meanwhile_is_removed(engine):
    engine.run("sleep", "1000", name="temp", AutoRemove=True)
    container_id = _only_id(engine)
    engine.stop_daemon()
    engine.runtime.exit(engine.root.container(container_id), 0)
    engine.start_daemon()
    eventually(lambda: engine.containers.all() == [])
    assert not engine.root.container(container_id).exists()


def test_a_task_lost_with_the_host_is_an_exit_255(engine):
    engine.run("sleep", "1000", name="web")
    engine.stop_daemon()
    engine.runtime = FakeRuntime()  # a reboot: no shim survived
    engine.start_daemon()
    state = engine.containers.inspect("web")["State"]
    assert (state["Status"], state["ExitCode"]) == ("exited", 255)


def test_a_paused_container_stays_paused(engine):
    engine.run("sleep", "1000", name="web")
    engine.containers.pause("web")
    engine.restart()
    assert engine.containers.inspect("web")["State"]["Status"] == "paused"
    engine.containers.unpause("web")
    assert not engine.runtime.is_paused(engine.state_dir("web"))


def test_a_removal_cut_short_by_a_crash_is_finished(engine):
    container_id = engine.containers.create("gone", {"Image": "busybox"}, {}, None)["Id"]
    engine.stop_daemon()
    engine.start_daemon()
    engine.containers.store.delete(container_id)  # the record went; the crash left the files
    engine.stop_daemon()
    engine.start_daemon()
    assert not engine.root.container(container_id).exists()
    assert engine.snapshots.list_layers()  # the image's layers are untouched


def _only_id(engine) -> str:
    """The one container's ID, read from the data root (the stopped daemon's services are gone)."""
    (directory,) = engine.root.containers.iterdir()
    return directory.name


def test_a_task_whose_start_a_crash_cut_short_is_killed(engine):
    """The daemon died between the runtime's start and recording the container as running: no
    client was told it started, so the next daemon kills the task and unmounts the rootfs."""
    from dockyard.engine.containers.store import ContainerStore
    from dockyard.metadata.db import Database

    container_id = engine.run("sleep", "1000", name="half")
    engine.stop_daemon()
    db = Database(engine.root.database)
    container = next(c for c in ContainerStore(db).load_all() if c.id == container_id)
    container.state.status, container.state.pid = "created", None  # the record as the crash left it
    ContainerStore(db).save(container)
    db.close()
    engine.start_daemon()
    assert engine.containers.inspect("half")["State"]["Status"] == "created"
    with pytest.raises(NotFound):
        engine.runtime.state(engine.root.container(container_id))
    assert not engine.snapshots.is_mounted(container_id)
    engine.containers.start("half")  # and it starts as any created container
    assert engine.containers.inspect("half")["State"]["Running"]


def test_a_wedged_shim_leaves_its_container_as_recorded_and_the_rest_recovers(engine, monkeypatch):
    """A shim that is alive but does not answer must not keep the daemon from starting."""
    from dockyard.errors import Unavailable

    wedged = engine.run("sleep", "1000", name="wedged")
    engine.run("sleep", "1000", name="other")
    engine.stop_daemon()
    engine.runtime.exit(
        engine.root.container(next(p.name for p in engine.root.containers.iterdir() if p.name != wedged)), 3
    )
    real_state = engine.runtime.state

    def state(directory):
        if directory.name == wedged:
            raise Unavailable(f"shim for {wedged} is not responding")
        return real_state(directory)

    monkeypatch.setattr(engine.runtime, "state", state)
    engine.start_daemon()
    assert engine.containers.inspect("wedged")["State"]["Status"] == "running"
    assert engine.containers.inspect("other")["State"]["ExitCode"] == 3


def _stored_record(engine, container_id: str) -> dict:
    """The stopped daemon's record of a container, as stored."""
    db = Database(engine.root.database)
    (row,) = db.query("SELECT record FROM containers WHERE id = ?", (container_id,))
    db.close()
    return json.loads(row["record"])


def _store_record(engine, container_id: str, record: dict) -> None:
    """Replace the stopped daemon's record (with what a power loss or an older daemon left)."""
    db = Database(engine.root.database)
    with db.transaction() as tx:
        tx.execute("UPDATE containers SET record = ? WHERE id = ?", (json.dumps(record), container_id))
    db.close()


def test_a_snapshot_whose_parent_a_power_loss_took_is_repaired_from_the_record(engine):
    """create prepares the snapshot without fsync (decision 0121): the record holds its parent."""
    container_id = engine.containers.create("fresh", {"Image": "busybox"}, {}, None)["Id"]
    lowers = engine.snapshots.paths(container_id).lowers
    assert lowers  # the image's layer
    engine.stop_daemon()
    engine.runtime = FakeRuntime()
    engine.snapshots.power_loss()
    assert engine.snapshots.paths(container_id).lowers == ()  # what the next daemon finds: no parent
    engine.start_daemon()
    assert engine.snapshots.paths(container_id).lowers == lowers
    engine.containers.start("fresh")
    assert engine.containers.inspect("fresh")["State"]["Running"]


def test_a_start_whose_save_a_power_loss_took_shows_created_and_starts_again(engine):
    """Without a restart policy the `running` save is not synced: a power loss may leave the
    record as create made it, so the container shows Created, as if it never started."""
    container_id = engine.containers.create("brief", {"Image": "busybox", "Cmd": ["sleep", "1000"]}, {}, None)["Id"]
    created = engine.containers.get(container_id).to_json()
    engine.containers.start("brief")
    engine.stop_daemon()
    _store_record(engine, container_id, json.loads(created))  # the WAL's unsynced suffix lost
    engine.runtime = FakeRuntime()  # the host went down with the container's process
    engine.snapshots.power_loss()
    engine.start_daemon()
    state = engine.containers.inspect("brief")["State"]
    assert (state["Status"], state["StartedAt"]) == ("created", "0001-01-01T00:00:00Z")
    engine.containers.start("brief")
    assert engine.containers.inspect("brief")["State"]["Running"]
    assert engine.snapshots.paths(container_id).lowers


def test_a_record_older_than_the_snapshot_parent_leaves_its_snapshot_alone(engine, monkeypatch):
    container_id = engine.containers.create("old", {"Image": "busybox"}, {}, None)["Id"]
    engine.stop_daemon()
    record = _stored_record(engine, container_id)
    del record["snapshot_parent"]
    _store_record(engine, container_id, record)
    repairs = []
    monkeypatch.setattr(engine.snapshots, "repair", lambda key, parent: repairs.append(key) or False)
    engine.start_daemon()
    assert repairs == [] and engine.containers.get("old").snapshot_parent is None
    engine.containers.start("old")
    assert engine.containers.inspect("old")["State"]["Running"]


def _recorded(monkeypatch, store, method: str, note) -> list:
    """note(argument, durable) of every call of store.<method> (save, delete) from now on."""
    calls: list = []
    real = getattr(store, method)

    def wrapper(argument, durable=True):
        calls.append(note(argument, durable))
        real(argument, durable)

    monkeypatch.setattr(store, method, wrapper)
    return calls


def _recorded_saves(engine, monkeypatch) -> list[tuple[str, bool]]:
    """(status, durable) of every save of a container record from now on."""
    return _recorded(monkeypatch, engine.containers.store, "save", lambda c, durable: (c.state.status, durable))


@pytest.mark.parametrize(("policy", "synced"), [({}, False), ({"Name": "no"}, False), ({"Name": "on-failure"}, True)])
def test_a_run_state_is_synced_only_where_a_restart_policy_reads_it(engine, monkeypatch, policy, synced):
    """The `running` and exit saves describe a process of this boot; with a restart policy
    the next boot acts on them, so they are synced then (decision 0121)."""
    saves = _recorded_saves(engine, monkeypatch)
    engine.run("sleep", "1000", name="job", RestartPolicy=policy)
    engine.runtime.exit(engine.state_dir("job"), 0)
    assert engine.containers.wait("job", "not-running")["StatusCode"] == 0
    eventually(lambda: ("exited", synced) in saves)
    assert saves == [("running", synced), ("exited", synced)]


def test_an_auto_removed_container_syncs_its_running_save(engine, monkeypatch):
    """`run --rm`: the next boot removes a container recorded as running; one whose save was
    lost would stay, Created, holding its name. So that save is synced (its exit is never saved)."""
    saves = _recorded_saves(engine, monkeypatch)
    engine.run("sleep", "1000", name="job", AutoRemove=True)
    assert saves == [("running", True)]


def test_only_the_removal_after_an_auto_removed_exit_is_unsynced(engine, monkeypatch):
    """Its record still says running, which the next boot removes; `rm` of a container
    recorded otherwise (here: created, never started) is synced."""
    deletes = _recorded(monkeypatch, engine.containers.store, "delete", lambda _, durable: durable)
    engine.run("sleep", "1000", name="job", AutoRemove=True)
    engine.runtime.exit(engine.state_dir("job"), 0)
    assert engine.containers.wait("job", "removed")["StatusCode"] == 0
    engine.containers.create("kept", {"Image": "busybox"}, {"AutoRemove": True}, None)
    engine.containers.remove("kept", force=False, volumes=False)
    assert deletes == [False, True]


def test_an_auto_removed_container_whose_removal_a_power_loss_took_is_removed_at_start(engine):
    engine.run("sleep", "1000", name="job", AutoRemove=True)
    container_id = engine.containers.get("job").id
    running = engine.containers.get("job").to_json()
    engine.runtime.exit(engine.state_dir("job"), 0)
    assert engine.containers.wait("job", "removed")["StatusCode"] == 0
    engine.stop_daemon()
    db = Database(engine.root.database)  # the unsynced delete lost: the synced `running` save is back
    with db.transaction() as tx:
        tx.execute(
            "INSERT INTO containers (id, name, image_id, record) VALUES (?, ?, ?, ?)",
            (container_id, "job", json.loads(running)["image_id"], running),
        )
    db.close()
    engine.runtime = FakeRuntime()
    engine.start_daemon()
    with pytest.raises(NotFound):
        engine.containers.get("job")
    assert not engine.root.container(container_id).exists()
    engine.run("sleep", "1000", name="job")  # its name is free again


def test_a_malformed_snapshot_parent_in_a_record_does_not_stop_the_daemon(engine):
    container_id = engine.containers.create("odd", {"Image": "busybox"}, {}, None)["Id"]
    engine.run("sleep", "1000", name="other")
    engine.stop_daemon()
    record = _stored_record(engine, container_id)
    record["snapshot_parent"] = "not a digest"
    _store_record(engine, container_id, record)
    engine.start_daemon()
    assert engine.containers.inspect("other")["State"]["Status"] == "running"


def test_a_wedged_shim_of_a_container_recorded_as_not_running_does_not_stop_the_daemon(engine, monkeypatch):
    """A record that still says created (its `running` save lost with the power) whose shim pid
    looks alive but does not answer (say, reused after the reboot): logged, left as recorded."""
    from dockyard.errors import Unavailable

    container_id = engine.containers.create("stale", {"Image": "busybox"}, {}, None)["Id"]
    engine.run("sleep", "1000", name="other")
    engine.stop_daemon()

    def state(directory):
        raise Unavailable(f"shim for {directory.name} is not responding")

    monkeypatch.setattr(engine.runtime, "state", state)
    engine.start_daemon()
    assert engine.containers.inspect(container_id)["State"]["Status"] == "created"
    assert engine.containers.inspect("other")["State"]["Status"] == "running"

"""Every container event dockerd emits, with its attributes, from one container's life over
the fakes; filters and --since/--until on the bus."""

from __future__ import annotations

import time

from tests.polling import eventually


def _container_events(engine, since: float = 0) -> list[dict]:
    return list(engine.events.subscribe(since, time.time(), {"type": ["container"]}))


def test_one_life_emits_dockers_container_events_in_order(engine):
    container_id = engine.containers.create(
        "life", {"Image": "busybox", "Cmd": ["sleep", "1000"], "Tty": True}, {}, None
    )["Id"]
    engine.containers.attach("life", False, True, True, False, True).close()
    engine.containers.start("life")
    engine.containers.resize("life", 24, 80)
    exec_id = engine.execs.exec_create("life", {"Cmd": ["echo", "hi"]})["Id"]
    engine.execs.exec_start(exec_id, detach=True, tty=False)
    eventually(lambda: any(e["Action"] == "exec_die" for e in _container_events(engine)))
    engine.containers.pause("life")
    engine.containers.unpause("life")
    engine.containers.update("life", {"PidsLimit": 10})
    engine.containers.rename("life", "renamed")
    engine.containers.kill("renamed", "SIGHUP")
    engine.containers.restart("renamed", 0, None)
    engine.runtime.oom(engine.state_dir("renamed"))
    eventually(lambda: _container_events(engine)[-1]["Action"] == "die")
    b"".join(engine.containers.export("renamed"))
    engine.containers.remove("renamed", force=False, volumes=False)
    events = _container_events(engine)
    assert [e["Action"] for e in events] == [
        "create",
        "attach",
        "start",
        "resize",
        "exec_create: echo hi",
        "exec_start: echo hi",
        "exec_die",
        "pause",
        "unpause",
        "update",
        "rename",
        "kill",
        "kill",  # restart -t 0: the stop signal, then SIGKILL
        "kill",
        "die",
        "start",
        "restart",
        "oom",
        "die",
        "export",
        "destroy",
    ]
    by_action = {e["Action"]: e["Actor"]["Attributes"] for e in events}
    assert by_action["exec_die"]["exitCode"] == "0" and by_action["exec_die"]["execID"] == exec_id
    assert by_action["die"]["exitCode"] == "137"
    assert by_action["resize"] | {} == {**by_action["resize"], "height": "24", "width": "80"}
    assert by_action["rename"]["oldName"] == "/life" and by_action["destroy"]["name"] == "renamed"
    assert all(e["Actor"]["ID"] == container_id and e["id"] == container_id for e in events)


def test_filters_and_time_window(engine):
    first = engine.run("sleep", "1000", name="one")
    middle = time.time()
    time.sleep(0.01)
    engine.run("sleep", "1000", name="two")
    until = time.time()
    time.sleep(0.01)
    engine.containers.pause("two")
    window = [(e["Action"], e["Actor"]["Attributes"]["name"]) for e in engine.events.subscribe(middle, until, {})]
    assert window == [("create", "two"), ("start", "two")]
    one = list(engine.events.subscribe(0, time.time(), {"container": ["one"], "event": ["start"]}))
    assert [(e["Action"], e["id"]) for e in one] == [("start", first)]
    assert [e["Action"] for e in engine.events.subscribe(0, time.time(), {"event": ["pause"]})] == ["pause"]

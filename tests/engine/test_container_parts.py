"""The container service's pure parts: the shared table, restart policies, wait conditions,
and what the runtime is handed (namespaces, stdio and log rotation)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from dockyard.engine.containers import specgen
from dockyard.engine.containers.model import Container, State
from dockyard.engine.containers.table import ContainerTable
from dockyard.engine.containers.waits import ExitWaits
from dockyard.errors import Conflict, InvalidArgument, NoSuchContainer


def _container(cid: str = "a" * 64, name: str = "web", **host_config) -> Container:
    return Container(cid, name, "busybox", "sha256:" + "0" * 64, "2024-01-01T00:00:00Z", {}, host_config)


def test_table_finds_by_id_name_and_unique_prefix() -> None:
    one, two = _container("ab" + "0" * 62, "one"), _container("ac" + "0" * 62, "two")
    table = ContainerTable([one, two])
    assert table.get(one.id) is one and table.get("/two") is two and table.get("ab") is one
    with pytest.raises(InvalidArgument, match="multiple IDs"):
        table.get("a")
    with pytest.raises(NoSuchContainer):
        table.get("zz")
    table.discard(one.id)
    assert one.id not in table and table.all() == [two]


def test_wait_next_exit_and_removed() -> None:
    container = _container()
    container.state = State("running", pid=7)
    table = ContainerTable([container])
    waits = ExitWaits(table)
    results: dict[str, dict] = {}
    waiters = [
        threading.Thread(target=lambda c=c: results.__setitem__(c, waits.wait(container, c)))
        for c in ("next-exit", "removed")
    ]
    for waiter in waiters:
        waiter.start()
    container.state = State("exited", exit_code=3)
    waits.changed(container.id, exited=True)
    waiters[0].join(5)
    assert results["next-exit"] == {"StatusCode": 3, "Error": None} and waiters[1].is_alive()
    waits.removed(container.id, 3)
    table.discard(container.id)
    waits.changed(container.id, exited=False)
    waiters[1].join(5)
    assert results["removed"]["StatusCode"] == 3
    with pytest.raises(InvalidArgument, match="invalid condition"):
        waits.wait(container, "sometime")


def test_a_cancelled_wait_ends() -> None:
    container = _container()
    container.state = State("running", pid=7)
    assert ExitWaits(ContainerTable([container])).wait(container, "", cancelled=lambda: True)["StatusCode"] == 0


def test_namespaces_shared_with_the_host_or_another_container() -> None:
    peer = _container("b" * 64, "db")
    peer.state = State("running", pid=42)
    table = ContainerTable([peer])
    own = _container(NetworkMode="container:db", PidMode="host")
    assert specgen.namespaces(own, table.get) == {"network": "/proc/42/ns/net", "pid": "host"}
    assert specgen.namespaces(_container(NetworkMode="host", UTSMode="host"), table.get) == {
        "network": "host",
        "uts": "host",
    }
    peer.state = State("exited")
    with pytest.raises(Conflict, match="non running container"):
        specgen.namespaces(own, table.get)


def test_io_config_reads_the_log_options(tmp_path: Path) -> None:
    container = _container(LogConfig={"Type": "json-file", "Config": {"max-size": "1k", "max-file": "2"}})
    container.config.update(Tty=True, OpenStdin=True)
    io = specgen.io_config(container, tmp_path / "log")
    assert (io.tty, io.open_stdin, io.stdin_once) == (True, True, False)
    assert (io.log_path, io.log_max_size, io.log_max_files) == (tmp_path / "log", 1024, 2)

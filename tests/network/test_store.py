import threading

import pytest

from dockyard.errors import Conflict, Forbidden
from dockyard.metadata.db import Database
from dockyard.network.store import EndpointRecord, NetworkRecord, NetworkStore, PortRecord


@pytest.fixture
def store(tmp_path):
    db = Database(tmp_path / "d.db")
    yield NetworkStore(db)
    db.close()


def test_network_roundtrip_and_unique_name(store):
    rec = NetworkRecord(
        "n1",
        "front",
        "bridge",
        "2024-01-01T00:00:00Z",
        "dy-n1",
        "10.5.0.0/24",
        "10.5.0.1",
        labels={"a": "b"},
        options={"o": "1"},
    )
    store.add_network(rec)
    assert store.networks() == [rec]
    ranged = NetworkRecord("n3", "ranged", "bridge", "y", ip_range="10.6.0.128/25", aux_addresses={"r": "10.6.0.129"})
    store.add_network(ranged)
    assert store.networks() == [rec, ranged]
    store.remove_network("n3")
    assert store.networks() == [rec] and not store.db.query("SELECT * FROM network_pools")
    with pytest.raises(Conflict, match="network with name front already exists"):
        store.add_network(NetworkRecord("n2", "front", "bridge", "x"))


def test_concurrent_allocation_never_duplicates(tmp_path, store):
    store.add_network(NetworkRecord("n1", "front", "bridge", "x"))
    got: list[str] = []

    def allocate(taken: list[str]) -> tuple[str, str]:
        n = 2
        while f"10.0.0.{n}" in taken:
            n += 1
        return f"10.0.0.{n}", ""

    def attach(i: int) -> None:
        got.append(store.add_endpoint(EndpointRecord("n1", f"c{i}", f"e{i}", f"c{i}"), allocate).ip)

    threads = [threading.Thread(target=attach, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == sorted({f"10.0.0.{n}" for n in range(2, 10)})
    with pytest.raises(Forbidden):
        store.add_endpoint(EndpointRecord("n1", "c1", "e", "c1"), allocate)


def test_endpoints_survive_reopen_and_block_removal(tmp_path):
    db = Database(tmp_path / "r.db")
    store = NetworkStore(db)
    store.add_network(NetworkRecord("n1", "front", "bridge", "x"))
    store.add_endpoint(EndpointRecord("n1", "c1", "e1", "web", ("www",)), lambda taken: ("10.0.0.2", "m"))
    store.add_ports([PortRecord("c1", "n1", "10.0.0.2", 80, "tcp", "0.0.0.0", 8080)])
    db.close()
    store = NetworkStore(Database(tmp_path / "r.db"))
    assert store.endpoints(container_id="c1")[0].aliases == ("www",)
    with pytest.raises(Forbidden, match="active endpoints"):
        store.remove_network("n1")
    with pytest.raises(Conflict, match="port is already allocated"):
        store.add_ports([PortRecord("c2", "n1", "10.0.0.3", 80, "tcp", "0.0.0.0", 8080)])
    store.forget_container("c1")
    assert store.ports() == [] and store.endpoints() == []
    store.remove_network("n1")
    assert store.networks() == []

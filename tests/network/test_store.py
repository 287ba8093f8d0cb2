import threading

import pytest

from dockyard.errors import Conflict, Forbidden
from dockyard.metadata.db import Database
from dockyard.network.store import Allocation, EndpointRecord, NetworkRecord, NetworkStore, PortRecord, Taken


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

    def allocate(taken: Taken) -> Allocation:
        n = 2
        while f"10.0.0.{n}" in taken.ips:
            n += 1
        return Allocation(f"10.0.0.{n}", "")

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
    store.add_endpoint(EndpointRecord("n1", "c1", "e1", "web", ("www",)), lambda taken: Allocation("10.0.0.2", "m"))
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


def test_ipv6_pools_addresses_and_links_survive_reopen(tmp_path):
    db = Database(tmp_path / "r.db")
    store = NetworkStore(db)
    asked = ({"Subnet": "fd00:1::/64"},)
    store.add_network(
        NetworkRecord("n1", "v6", "bridge", "x", subnet6="fd00:1::/64", gateway6="fd00:1::1", asked_pools=asked)
    )
    store.add_network(NetworkRecord("n2", "v4", "bridge", "x"))
    seen: list[Taken] = []

    def allocate(taken: Taken) -> Allocation:
        seen.append(taken)
        return Allocation(f"10.0.0.{2 + len(seen)}", "m", f"fd00:1::{2 + len(seen)}")

    store.add_endpoint(EndpointRecord("n1", "c1", "e1", "a", links=(("db", "c2"),)), allocate)
    store.add_endpoint(EndpointRecord("n1", "c2", "e2", "b"), allocate)
    assert seen[1] == Taken(["10.0.0.3"], ["fd00:1::3"])
    db.close()
    store = NetworkStore(Database(tmp_path / "r.db"))
    nets = {n.name: n for n in store.networks()}
    assert (nets["v6"].ipv6, nets["v6"].gateway6, nets["v4"].ipv6) == (True, "fd00:1::1", False)
    assert (nets["v6"].asked_pools, nets["v4"].asked_pools) == (asked, ())
    first, second = store.endpoints(network_id="n1")
    assert (first.ip6, first.links, second.ip6, second.links) == ("fd00:1::3", (("db", "c2"),), "fd00:1::4", ())
    store.remove_endpoint("n1", "c1")
    store.forget_container("c2")
    assert store.endpoints() == []
    assert db_rows(tmp_path / "r.db", "network_endpoint_details") == 0
    store.remove_network("n1")
    assert db_rows(tmp_path / "r.db", "network_ipv6") == db_rows(tmp_path / "r.db", "network_ipam_asked") == 0


def db_rows(path, table: str) -> int:
    return Database(path).query(f"SELECT COUNT(*) FROM {table}")[0][0]

"""The network tables: networks, their endpoints (one per container and network, which is
also the IP allocation: UNIQUE(network_id, ip)) and published ports. One transaction per change.

Tables added after the first release sit beside the original ones (a data root made
before them gains them empty): `network_pools` (IPRange, AuxiliaryAddresses),
`network_ipv6` (a network's IPv6 pool: its presence is EnableIPv6), `network_ipam_asked`
(the IPAM.Config pools as the user gave them, which inspect shows as dockerd does) and
`network_endpoint_details` (an endpoint's IPv6 address, UNIQUE per network, and its
legacy-link aliases).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from dockyard.errors import Conflict, Forbidden
from dockyard.metadata.db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS networks (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    driver TEXT NOT NULL,
    bridge TEXT NOT NULL DEFAULT '',
    subnet TEXT NOT NULL DEFAULT '',
    gateway TEXT NOT NULL DEFAULT '',
    internal INTEGER NOT NULL DEFAULT 0,
    attachable INTEGER NOT NULL DEFAULT 0,
    labels TEXT NOT NULL DEFAULT '{}',
    options TEXT NOT NULL DEFAULT '{}',
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS network_pools (
    network_id TEXT PRIMARY KEY REFERENCES networks(id),
    ip_range TEXT NOT NULL DEFAULT '',
    aux_addresses TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS network_ipv6 (
    network_id TEXT PRIMARY KEY REFERENCES networks(id),
    subnet TEXT NOT NULL,
    gateway TEXT NOT NULL,
    ip_range TEXT NOT NULL DEFAULT '',
    aux_addresses TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS network_ipam_asked (
    network_id TEXT PRIMARY KEY REFERENCES networks(id),
    pools TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS network_endpoint_details (
    network_id TEXT NOT NULL,
    container_id TEXT NOT NULL,
    ip6 TEXT,
    links TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (network_id, container_id),
    UNIQUE (network_id, ip6)
);
CREATE TABLE IF NOT EXISTS network_endpoints (
    network_id TEXT NOT NULL REFERENCES networks(id),
    container_id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    name TEXT NOT NULL,
    aliases TEXT NOT NULL DEFAULT '[]',
    ip TEXT,
    mac TEXT NOT NULL DEFAULT '',
    ifname TEXT NOT NULL DEFAULT '',
    veth TEXT NOT NULL DEFAULT '',
    netns TEXT NOT NULL DEFAULT '',
    seq INTEGER NOT NULL,
    PRIMARY KEY (network_id, container_id),
    UNIQUE (network_id, ip)
);
CREATE TABLE IF NOT EXISTS network_ports (
    container_id TEXT NOT NULL,
    network_id TEXT NOT NULL,
    container_ip TEXT NOT NULL,
    container_port INTEGER NOT NULL,
    proto TEXT NOT NULL,
    host_ip TEXT NOT NULL,
    host_port INTEGER NOT NULL,
    PRIMARY KEY (proto, host_ip, host_port)
);
"""


@dataclass(frozen=True, slots=True)
class NetworkRecord:
    """One network as stored."""

    id: str
    name: str
    driver: str
    created: str
    bridge: str = ""
    subnet: str = ""
    gateway: str = ""
    internal: bool = False
    attachable: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, str] = field(default_factory=dict)
    ip_range: str = ""  # IPAM IPRange: where addresses are handed out from ("" = the subnet)
    aux_addresses: Mapping[str, str] = field(default_factory=dict)  # IPAM AuxiliaryAddresses
    subnet6: str = ""  # the IPv6 pool ("" = EnableIPv6 false), with its gateway, range and aux
    gateway6: str = ""
    ip_range6: str = ""
    aux_addresses6: Mapping[str, str] = field(default_factory=dict)
    asked_pools: tuple[Mapping[str, object], ...] = ()  # IPAM.Config as given ((): none given)

    @property
    def ipv6(self) -> bool:
        return bool(self.subnet6)


@dataclass(frozen=True, slots=True)
class EndpointRecord:
    """One container's attachment to one network, with its address (None without IPAM)."""

    network_id: str
    container_id: str
    endpoint_id: str
    name: str
    aliases: tuple[str, ...] = ()
    ip: str | None = None
    mac: str = ""
    ifname: str = ""
    veth: str = ""
    netns: str = ""
    seq: int = 0
    ip6: str | None = None
    links: tuple[tuple[str, str], ...] = ()  # (alias, linked container's name): names only this endpoint resolves


@dataclass(frozen=True, slots=True)
class Taken:
    """The addresses a network has handed out, as add_endpoint's `allocate` is given them."""

    ips: list[str]
    ip6s: list[str]


@dataclass(frozen=True, slots=True)
class Allocation:
    """What `allocate` picks for a new endpoint."""

    ip: str | None
    mac: str
    ip6: str | None = None


@dataclass(frozen=True, slots=True)
class PortRecord:
    """One published port of a container."""

    container_id: str
    network_id: str
    container_ip: str
    container_port: int
    proto: str
    host_ip: str
    host_port: int


def _network(row: sqlite3.Row) -> NetworkRecord:
    data = dict(row)
    data.update(
        internal=bool(data["internal"]),
        attachable=bool(data["attachable"]),
        labels=json.loads(data["labels"]),
        options=json.loads(data["options"]),
        aux_addresses=json.loads(data["aux_addresses"]),
        aux_addresses6=json.loads(data["aux_addresses6"]),
        asked_pools=tuple(json.loads(data["asked_pools"])),
    )
    return NetworkRecord(**data)


def _endpoint(row: sqlite3.Row) -> EndpointRecord:
    data = dict(row)
    data["aliases"] = tuple(json.loads(data["aliases"]))
    data["links"] = tuple((alias, target) for alias, target in json.loads(data["links"]))
    return EndpointRecord(**data)


class NetworkStore:
    """Reads and writes the network tables of the daemon's database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.ensure_schema(SCHEMA)

    def add_network(self, rec: NetworkRecord) -> None:
        """Raises Conflict if the name is taken."""
        try:
            with self.db.transaction() as conn:
                conn.execute(
                    "INSERT INTO networks VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        rec.id,
                        rec.name,
                        rec.driver,
                        rec.bridge,
                        rec.subnet,
                        rec.gateway,
                        int(rec.internal),
                        int(rec.attachable),
                        json.dumps(dict(rec.labels)),
                        json.dumps(dict(rec.options)),
                        rec.created,
                    ),
                )
                if rec.ip_range or rec.aux_addresses:
                    conn.execute(
                        "INSERT INTO network_pools VALUES (?,?,?)",
                        (rec.id, rec.ip_range, json.dumps(dict(rec.aux_addresses))),
                    )
                if rec.asked_pools:
                    conn.execute(
                        "INSERT INTO network_ipam_asked VALUES (?,?)",
                        (rec.id, json.dumps([dict(pool) for pool in rec.asked_pools])),
                    )
                if rec.ipv6:
                    conn.execute(
                        "INSERT INTO network_ipv6 VALUES (?,?,?,?,?)",
                        (rec.id, rec.subnet6, rec.gateway6, rec.ip_range6, json.dumps(dict(rec.aux_addresses6))),
                    )
        except sqlite3.IntegrityError:
            raise Conflict(f"network with name {rec.name} already exists") from None

    def remove_network(self, network_id: str) -> None:
        """Raises Forbidden if an endpoint still uses it."""
        with self.db.transaction() as conn:
            if conn.execute("SELECT 1 FROM network_endpoints WHERE network_id=?", (network_id,)).fetchone():
                raise Forbidden(f"error while removing network: network {network_id} has active endpoints")
            conn.execute("DELETE FROM network_pools WHERE network_id=?", (network_id,))
            conn.execute("DELETE FROM network_ipv6 WHERE network_id=?", (network_id,))
            conn.execute("DELETE FROM network_ipam_asked WHERE network_id=?", (network_id,))
            conn.execute("DELETE FROM networks WHERE id=?", (network_id,))

    def networks(self) -> list[NetworkRecord]:
        return [
            _network(r)
            for r in self.db.query(
                "SELECT n.*, COALESCE(p.ip_range, '') AS ip_range, COALESCE(p.aux_addresses, '{}') AS aux_addresses,"
                " COALESCE(v.subnet, '') AS subnet6, COALESCE(v.gateway, '') AS gateway6,"
                " COALESCE(v.ip_range, '') AS ip_range6, COALESCE(v.aux_addresses, '{}') AS aux_addresses6,"
                " COALESCE(a.pools, '[]') AS asked_pools"
                " FROM networks n LEFT JOIN network_pools p ON p.network_id = n.id"
                " LEFT JOIN network_ipv6 v ON v.network_id = n.id"
                " LEFT JOIN network_ipam_asked a ON a.network_id = n.id ORDER BY n.created, n.name"
            )
        ]

    def add_endpoint(self, rec: EndpointRecord, allocate: Callable[[Taken], Allocation]) -> EndpointRecord:
        """Insert `rec` with the (ip, ip6, mac) `allocate(addresses taken)` picks, atomically.

        Raises Forbidden if the container is already on that network.
        """
        with self.db.transaction() as conn:
            if conn.execute(
                "SELECT 1 FROM network_endpoints WHERE network_id=? AND container_id=?",
                (rec.network_id, rec.container_id),
            ).fetchone():
                raise Forbidden(f"endpoint with name {rec.name} already exists in network {rec.network_id}")
            taken = Taken(
                [
                    r[0]
                    for r in conn.execute(
                        "SELECT ip FROM network_endpoints WHERE network_id=? AND ip IS NOT NULL", (rec.network_id,)
                    )
                ],
                [
                    r[0]
                    for r in conn.execute(
                        "SELECT ip6 FROM network_endpoint_details WHERE network_id=? AND ip6 IS NOT NULL",
                        (rec.network_id,),
                    )
                ],
            )
            seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM network_endpoints").fetchone()[0]
            got = allocate(taken)
            rec = replace(rec, ip=got.ip, ip6=got.ip6, mac=got.mac, seq=seq)
            conn.execute(
                "INSERT INTO network_endpoints VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    rec.network_id,
                    rec.container_id,
                    rec.endpoint_id,
                    rec.name,
                    json.dumps(list(rec.aliases)),
                    rec.ip,
                    rec.mac,
                    rec.ifname,
                    rec.veth,
                    rec.netns,
                    rec.seq,
                ),
            )
            if rec.ip6 or rec.links:
                conn.execute(
                    "INSERT INTO network_endpoint_details VALUES (?,?,?,?)",
                    (rec.network_id, rec.container_id, rec.ip6, json.dumps([list(link) for link in rec.links])),
                )
        return rec

    def remove_endpoint(self, network_id: str, container_id: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM network_ports WHERE container_id=? AND network_id=?", (container_id, network_id))
            for table in ("network_endpoint_details", "network_endpoints"):
                conn.execute(f"DELETE FROM {table} WHERE network_id=? AND container_id=?", (network_id, container_id))

    def endpoints(self, network_id: str | None = None, container_id: str | None = None) -> list[EndpointRecord]:
        sql = (
            "SELECT e.*, d.ip6 AS ip6, COALESCE(d.links, '[]') AS links FROM network_endpoints e"
            " LEFT JOIN network_endpoint_details d"
            " ON d.network_id = e.network_id AND d.container_id = e.container_id WHERE 1=1"
        )
        args: list[str] = []
        if network_id is not None:
            sql, args = sql + " AND e.network_id=?", args + [network_id]
        if container_id is not None:
            sql, args = sql + " AND e.container_id=?", args + [container_id]
        return [_endpoint(r) for r in self.db.query(sql + " ORDER BY e.seq", tuple(args))]

    def add_ports(self, ports: list[PortRecord]) -> None:
        """Record published ports all at once. Raises Conflict if one is already published."""
        try:
            with self.db.transaction() as conn:
                conn.executemany(
                    "INSERT INTO network_ports VALUES (?,?,?,?,?,?,?)",
                    [
                        (
                            p.container_id,
                            p.network_id,
                            p.container_ip,
                            p.container_port,
                            p.proto,
                            p.host_ip,
                            p.host_port,
                        )
                        for p in ports
                    ],
                )
        except sqlite3.IntegrityError:
            raise Conflict("port is already allocated") from None

    def remove_port(self, rec: PortRecord) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "DELETE FROM network_ports WHERE proto=? AND host_ip=? AND host_port=? AND container_id=?",
                (rec.proto, rec.host_ip, rec.host_port, rec.container_id),
            )

    def remove_ports(self, container_id: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM network_ports WHERE container_id=?", (container_id,))

    def ports(self, container_id: str | None = None) -> list[PortRecord]:
        if container_id is None:
            rows = self.db.query("SELECT * FROM network_ports ORDER BY rowid")
        else:
            rows = self.db.query("SELECT * FROM network_ports WHERE container_id=? ORDER BY rowid", (container_id,))
        return [PortRecord(**dict(r)) for r in rows]

    def forget_container(self, container_id: str) -> None:
        """Drop every endpoint and port of a container in one transaction."""
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM network_ports WHERE container_id=?", (container_id,))
            conn.execute("DELETE FROM network_endpoint_details WHERE container_id=?", (container_id,))
            conn.execute("DELETE FROM network_endpoints WHERE container_id=?", (container_id,))

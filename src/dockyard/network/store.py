"""The network tables: networks, their endpoints (one per container and network, which is
also the IP allocation: UNIQUE(network_id, ip)) and published ports. One transaction per change.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

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
    )
    return NetworkRecord(**data)


def _endpoint(row: sqlite3.Row) -> EndpointRecord:
    data = dict(row)
    data["aliases"] = tuple(json.loads(data["aliases"]))
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
        except sqlite3.IntegrityError:
            raise Conflict(f"network with name {rec.name} already exists") from None

    def remove_network(self, network_id: str) -> None:
        """Raises Forbidden if an endpoint still uses it."""
        with self.db.transaction() as conn:
            if conn.execute("SELECT 1 FROM network_endpoints WHERE network_id=?", (network_id,)).fetchone():
                raise Forbidden(f"error while removing network: network {network_id} has active endpoints")
            conn.execute("DELETE FROM network_pools WHERE network_id=?", (network_id,))
            conn.execute("DELETE FROM networks WHERE id=?", (network_id,))

    def networks(self) -> list[NetworkRecord]:
        return [
            _network(r)
            for r in self.db.query(
                "SELECT n.*, COALESCE(p.ip_range, '') AS ip_range, COALESCE(p.aux_addresses, '{}') AS aux_addresses"
                " FROM networks n LEFT JOIN network_pools p ON p.network_id = n.id ORDER BY n.created, n.name"
            )
        ]

    def add_endpoint(
        self, rec: EndpointRecord, allocate: Callable[[list[str]], tuple[str | None, str]]
    ) -> EndpointRecord:
        """Insert `rec` with the (ip, mac) `allocate(addresses taken)` picks, atomically.

        Raises Forbidden if the container is already on that network.
        """
        with self.db.transaction() as conn:
            if conn.execute(
                "SELECT 1 FROM network_endpoints WHERE network_id=? AND container_id=?",
                (rec.network_id, rec.container_id),
            ).fetchone():
                raise Forbidden(f"endpoint with name {rec.name} already exists in network {rec.network_id}")
            taken = [
                r[0]
                for r in conn.execute(
                    "SELECT ip FROM network_endpoints WHERE network_id=? AND ip IS NOT NULL", (rec.network_id,)
                )
            ]
            seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM network_endpoints").fetchone()[0]
            ip, mac = allocate(taken)
            rec = EndpointRecord(
                **{**{f: getattr(rec, f) for f in rec.__dataclass_fields__}, "ip": ip, "mac": mac, "seq": seq}
            )
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
        return rec

    def remove_endpoint(self, network_id: str, container_id: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM network_ports WHERE container_id=? AND network_id=?", (container_id, network_id))
            conn.execute(
                "DELETE FROM network_endpoints WHERE network_id=? AND container_id=?", (network_id, container_id)
            )

    def endpoints(self, network_id: str | None = None, container_id: str | None = None) -> list[EndpointRecord]:
        sql, args = "SELECT * FROM network_endpoints WHERE 1=1", []
        if network_id is not None:
            sql, args = sql + " AND network_id=?", args + [network_id]
        if container_id is not None:
            sql, args = sql + " AND container_id=?", args + [container_id]
        return [_endpoint(r) for r in self.db.query(sql + " ORDER BY seq", tuple(args))]

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
            conn.execute("DELETE FROM network_endpoints WHERE container_id=?", (container_id,))

"""Host ports held for published container ports.

Traffic to a published port is rewritten by DNAT before any socket sees it, so no proxy
copies bytes. The daemon still binds each host port (without listening) so that no other
program can take it and so that a port in use is refused up front, as docker does.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable

from dockyard.errors import Conflict, InvalidArgument
from dockyard.network.portspec import PortBinding, PortSpec
from dockyard.network.store import EndpointRecord, NetworkStore, PortRecord

_KINDS = {"tcp": socket.SOCK_STREAM, "udp": socket.SOCK_DGRAM}


def _bind(proto: str, host_ip: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, _KINDS[proto])
    try:
        sock.bind((host_ip or "0.0.0.0", port))
    except BaseException:
        sock.close()
        raise
    return sock


def _bind_error(spec: PortSpec, port: int, exc: OSError) -> Exception:
    where = f"{spec.host_ip or '0.0.0.0'}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return Conflict(f"Bind for {where} failed: port is already allocated")
    return InvalidArgument(f"Error starting userland proxy: listen {spec.proto} {where}: bind: {exc.strerror.lower()}")


def reserve_one(spec: PortSpec) -> tuple[PortBinding, socket.socket]:
    """Bind the host side of one spec: its port, a free one in its range, or any free one."""
    if spec.proto not in _KINDS:
        raise InvalidArgument(f"publishing {spec.proto} ports is not supported")
    candidates = range(spec.host_port, spec.host_port_end + 1) if spec.host_port_end else [spec.host_port]
    error: OSError | None = None
    for port in candidates:
        try:
            sock = _bind(spec.proto, spec.host_ip, port)
        except OSError as exc:
            error = exc
            continue
        bound = sock.getsockname()[1]
        return PortBinding(spec.container_port, spec.proto, spec.host_ip or "0.0.0.0", bound), sock
    assert error is not None
    raise _bind_error(spec, spec.host_port, error)


def reserve(specs: list[PortSpec]) -> list[tuple[PortBinding, socket.socket]]:
    """Bind every spec or none: on the first failure the ones already bound are closed."""
    held: list[tuple[PortBinding, socket.socket]] = []
    try:
        for spec in specs:
            held.append(reserve_one(spec))
    except BaseException:
        for _, sock in held:
            sock.close()
        raise
    return held


class Publisher:
    """The host ports held for each container, and their rows in the network_ports table."""

    def __init__(self, store: NetworkStore) -> None:
        self.store = store
        self._held: dict[str, list[tuple[PortBinding, socket.socket]]] = {}

    def publish(self, target: EndpointRecord, specs: list[PortSpec], apply: Callable[[], None]) -> list[PortBinding]:
        """Bind, record, then `apply()` the rules; any failure undoes all three."""
        held = reserve(specs)
        records = [
            PortRecord(
                target.container_id,
                target.network_id,
                target.ip or "",
                b.container_port,
                b.proto,
                b.host_ip,
                b.host_port,
            )
            for b, _ in held
        ]
        try:
            self.store.add_ports(records)
            try:
                apply()
            except BaseException:
                for rec in records:
                    self.store.remove_port(rec)
                apply()
                raise
        except BaseException:
            for _, sock in held:
                sock.close()
            raise
        self._held.setdefault(target.container_id, []).extend(held)
        return [b for b, _ in held]

    def bindings(self, container_id: str) -> list[PortBinding]:
        return [PortBinding(p.container_port, p.proto, p.host_ip, p.host_port) for p in self.store.ports(container_id)]

    def close(self, container_id: str, network_id: str | None = None) -> None:
        """Let go of the container's host ports (only those on `network_id` if given)."""
        on_net = {
            (p.proto, p.host_ip, p.host_port)
            for p in self.store.ports(container_id)
            if network_id is None or p.network_id == network_id
        }
        keep = []
        for binding, sock in self._held.pop(container_id, []):
            if network_id is None or (binding.proto, binding.host_ip, binding.host_port) in on_net:
                sock.close()
            else:
                keep.append((binding, sock))
        if keep:
            self._held[container_id] = keep

    def close_all(self) -> None:
        for container_id in list(self._held):
            self.close(container_id)

    def rehold(self, container_id: str) -> None:
        """After a restart, bind a live container's host ports again (best effort)."""
        self.close(container_id)
        for p in self.store.ports(container_id):
            try:
                held = reserve_one(PortSpec(p.container_port, p.proto, p.host_ip, p.host_port))
            except (Conflict, InvalidArgument):
                continue  # taken meanwhile: the DNAT rule still wins for traffic to it
            self._held.setdefault(container_id, []).append(held)

"""The seam between containers and networks: what the container service asks at each step.

    prepare(container, dir)   at create: write hostname, hosts, resolv.conf into dir
    write_files(container, dir)  write those three again (at start, if a power loss emptied
                              them: they are written unsynced)
    wires(container)          whether connect() has work to do before the process runs (a
                              netns to wire, files to rewrite); if not, connect() may come
                              after the start, and must not fail
    connect(container, pid)   between the runtime's create and start: wire the netns of
                              `pid` (veths, addresses, published ports); returns the
                              container's NetworkSettings
    release(container)        when its process has exited or it is removed: free it all

Implementations: `engine.networks.wiring.ContainerNetworks` (bridges, ports, DNS: the default)
and `LoopbackOnly` (daemon.json `"bridge": "none"`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from dockyard.engine.containers.model import Container
from dockyard.network import hosts, resolvconf

HOST_RESOLV_CONF = Path("/etc/resolv.conf")


class ContainerNetworking(Protocol):
    def prepare(self, container: Container, directory: Path) -> None: ...
    def write_files(self, container: Container, directory: Path) -> None: ...
    def wires(self, container: Container) -> bool: ...
    def connect(self, container: Container, pid: int) -> dict: ...
    def release(self, container: Container) -> None: ...


class LoopbackOnly:
    """Every container in its own network namespace with loopback only (no network package)."""

    def prepare(self, container: Container, directory: Path) -> None:
        self.write_files(container, directory)

    def write_files(self, container: Container, directory: Path) -> None:
        hostname = container.config["Hostname"]
        try:
            host_resolv = resolvconf.parse_resolv_conf(HOST_RESOLV_CONF.read_text())
        except OSError:
            host_resolv = resolvconf.parse_resolv_conf("")
        files = {
            "hostname": hostname + "\n",
            "hosts": hosts.render_hosts(hostname),
            "resolv.conf": resolvconf.render_resolv_conf(resolvconf.container_resolv_conf(host_resolv)),
        }
        # in place: not bind-mounted before the start; unsynced (0121), so a power loss may
        # leave one empty (the start writes it again) or, small as they are, rarely cut short
        for name, text in files.items():
            (directory / name).write_text(text)

    def wires(self, container: Container) -> bool:
        return False

    def connect(self, container: Container, pid: int) -> dict:
        return {}

    def release(self, container: Container) -> None:
        pass

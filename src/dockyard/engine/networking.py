"""The seam between containers and networks: what the container service asks at each step.

    prepare(container, dir)   at create: write hostname, hosts, resolv.conf into dir
    connect(container, pid)   between the runtime's create and start: wire the netns of
                              `pid` (veths, addresses, published ports); returns the
                              container's NetworkSettings
    release(container)        when its process has exited or it is removed: free it all

Implementations: `netwiring.ContainerNetworks` (bridges, ports, DNS: the daemon's default)
and `LoopbackOnly` (daemon.json `"bridge": "none"`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from dockyard.engine.files import write_container_files
from dockyard.engine.model import Container


class ContainerNetworking(Protocol):
    def prepare(self, container: Container, directory: Path) -> None: ...
    def connect(self, container: Container, pid: int) -> dict: ...
    def release(self, container: Container) -> None: ...


class LoopbackOnly:
    """Every container in its own network namespace with loopback only (no network package)."""

    def prepare(self, container: Container, directory: Path) -> None:
        write_container_files(directory, container.config["Hostname"])

    def connect(self, container: Container, pid: int) -> dict:
        return {}

    def release(self, container: Container) -> None:
        pass

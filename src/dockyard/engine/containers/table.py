"""The containers the daemon knows, in memory: the one lookup the container service and the
networking seam share.

The daemon fills it from the container store at start-up and hands it to both, so neither
needs the other to find a container (`container:<name>` network mode does). Only
ContainerService adds and removes entries, and it alone persists them.
"""

from __future__ import annotations

from collections.abc import Iterable

from dockyard.engine.containers.model import Container
from dockyard.errors import InvalidArgument, NoSuchContainer


class ContainerTable:
    def __init__(self, containers: Iterable[Container] = ()) -> None:
        self._by_id: dict[str, Container] = {c.id: c for c in containers}

    def get(self, ref: str) -> Container:
        """By full ID, name (with or without /) or unique ID prefix. Raises NoSuchContainer."""
        if ref in self._by_id:
            return self._by_id[ref]
        name = ref.lstrip("/")
        for container in self.all():
            if container.name == name:
                return container
        matches = [c for c in self.all() if ref and c.id.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise InvalidArgument(f"multiple IDs found with provided prefix: {ref}")
        raise NoSuchContainer(ref)

    def all(self) -> list[Container]:
        return list(self._by_id.values())

    def __contains__(self, container_id: object) -> bool:
        return container_id in self._by_id

    def add(self, container: Container) -> None:
        self._by_id[container.id] = container

    def discard(self, container_id: str) -> None:
        self._by_id.pop(container_id, None)

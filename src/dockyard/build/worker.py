"""What the builder needs from the engine: images, layers, and containers for RUN.

The builder decides what each step does and how it is cached; a Worker does the I/O.
Every image the builder names is an image ID (`sha256:...`); None is the empty `scratch`.

Lifecycle of a filesystem step:
    image_id = worker.commit(parent, document, write)    write(rootfs, layer) writes the new
                                                         layer's tar, looking at parent mounted
Lifecycle of a RUN step:
    run = worker.run(parent, config, host_config)        a generator: yields the container ID
    for item in run: ...                                 first, then (stream, bytes) of output;
                                                         returns the exit code
    image_id = worker.commit_container(container_id, document)  (exit code 0 only)
    worker.remove_container(container_id)                always
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from dockyard.build.layertar import LayerWriter


class Worker(Protocol):
    def find(self, ref: str) -> str | None:
        """The local image ID for a name or ID, None when there is none."""

    def pull(self, ref: str, platform: str | None) -> Iterator[dict]:
        """Pull `ref`, yielding docker's progress messages. Raises NotFound, Unauthorized."""

    def exists(self, image_id: str) -> bool: ...

    def document(self, image_id: str) -> dict:
        """The image's config document."""

    def register(self, parent: str | None, document: dict) -> str:
        """A new image with parent's layers and this document (a step without a layer)."""

    def commit(
        self, parent: str | None, document: dict, write: Callable[[Path, LayerWriter], None], keep_empty: bool
    ) -> str | None:
        """Register the layer `write(rootfs, layer)` writes (rootfs: parent, mounted, to look
        at) on top of parent, its diff_id appended to the document's rootfs. With no entry
        written and not `keep_empty`, nothing is registered and None is returned."""

    def mounted(self, image_id: str | None) -> AbstractContextManager[Path]:
        """A mounted copy of the image's filesystem for reading (COPY --from)."""

    def run(self, parent: str, config: dict, host_config: dict) -> Generator[object, None, int]:
        """Create and start a container of `parent` with this config; see the module doc."""

    def commit_container(self, container_id: str, document: dict) -> str: ...

    def remove_container(self, container_id: str) -> None: ...

    def tag(self, image_id: str, name: str) -> str:
        """Point `name` at the image; return the name as docker prints it."""

"""`docker commit`: a container's changes become a new layer on top of its image.

The snapshot's diff (overlay whiteouts turned into `.wh.` entries) is written into the
content store as an uncompressed layer, whose digest is then its diff_id; the new config is
the image's, with the container's config (then the request's config, then `--change`
instructions) on top, one more diff_id and one more history entry; `ImageService.register`
unpacks and records it like any other image. A running container is paused meanwhile
unless asked not to be.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from dockyard.engine.containers.model import Container, now_rfc3339
from dockyard.engine.containers.service import ContainerService
from dockyard.images.changes import apply_changes
from dockyard.images.service import ImageService, LayerBlob
from dockyard.images.store import ImageRecord
from dockyard.oci import mediatypes as mt

_NOT_INHERITED = ("Image", "Hostname", "Domainname", "AttachStdin", "AttachStdout", "AttachStderr")


def commit(
    containers: ContainerService,
    images: ImageService,
    ref: str,
    comment: str | None,
    author: str | None,
    pause: bool,
    changes: list[str],
    config: dict | None,
) -> ImageRecord:
    """Register the container's filesystem and config as a new image. Raises NoSuchContainer."""
    container = containers.get(ref)
    with _paused(containers, container, pause):
        with images.content.writer() as writer:
            containers.layer_diff(container.id, writer)
            size = writer.offset
            diff_id = writer.commit()
    base = images.resolve(container.image_id)
    document = new_config(images.config(base), container, diff_id, comment, author, changes, config)
    layers = [LayerBlob(layer.digest, layer.media_type, layer.size) for layer in base.layers]
    layers.append(LayerBlob(diff_id, mt.OCI_LAYER, size))
    return images.register(json.dumps(document, separators=(",", ":")).encode(), layers)


def new_config(
    image: dict,
    container: Container,
    diff_id: str,
    comment: str | None,
    author: str | None,
    changes: list[str],
    overrides: dict | None,
) -> dict:
    """The committed image's config document (pure)."""
    runtime = {k: v for k, v in container.config.items() if k not in _NOT_INHERITED}
    runtime.update({k: v for k, v in (overrides or {}).items() if v not in (None, "", [], {})})
    runtime = apply_changes(runtime, changes)
    created = now_rfc3339()
    entry = {"created": created, "created_by": " ".join(container.config.get("Cmd") or [])}
    if author:
        entry["author"] = author
    if comment:
        entry["comment"] = comment
    document = {
        **image,
        "created": created,
        "config": runtime,
        "container": container.id,
        "rootfs": {"type": "layers", "diff_ids": [*image.get("rootfs", {}).get("diff_ids", []), diff_id]},
        "history": [*image.get("history", []), entry],
    }
    if author:
        document["author"] = author
    return document


@contextmanager
def _paused(containers: ContainerService, container: Container, wanted: bool) -> Iterator[None]:
    if not wanted or container.state.status != "running":
        yield
        return
    containers.pause(container.id)
    try:
        yield
    finally:
        containers.unpause(container.id)

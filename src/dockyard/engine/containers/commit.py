"""`docker commit`: a container's changes become a new layer on top of its image.

The snapshot's diff (overlay whiteouts turned into `.wh.` entries) is written into the
content store as an uncompressed layer, whose digest is then its diff_id; the new config is
the image's, with the container's config (then the request's config, then `--change`
instructions) on top, the container's own config as `container_config`, the base image as
`parent`, one more diff_id (none for a container that changed nothing: an `empty_layer`
history entry, as moby) and one more history entry; `ImageService.register` unpacks and
records it like any other image. A running container is paused meanwhile unless asked not to be.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from dockyard import faults
from dockyard.engine.containers.model import Container
from dockyard.engine.containers.service import ContainerService
from dockyard.images.changes import apply_changes
from dockyard.images.service import ImageService, LayerBlob
from dockyard.images.store import ImageRecord
from dockyard.oci import mediatypes as mt
from dockyard.timestamps import now_rfc3339

EMPTY_LAYER = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"  # a tar of no entries


def commit(
    containers: ContainerService,
    images: ImageService,
    ref: str,
    comment: str | None,
    author: str | None,
    pause: bool,
    changes: list[str],
    config: dict | None,
    names: Sequence[str] = (),
) -> ImageRecord:
    """Register the container's filesystem and config as a new image named `names`.
    Raises NoSuchContainer."""
    container = containers.get(ref)
    with images.leases.lease() as lease:  # the new layer's blob stays until the image records it
        with _paused(containers, container, pause):
            with lease.writer(images.content) as writer:
                containers.layer_diff(container.id, writer)
                size = writer.offset
                diff_id = writer.commit()
        faults.point("commit.after-blob")
        base = images.resolve(container.image_id)
        empty = str(diff_id) == EMPTY_LAYER
        document = new_config(
            images.config(base), container, None if empty else diff_id, comment, author, changes, config
        )
        layers = [LayerBlob(layer.digest, layer.media_type, layer.size) for layer in base.layers]
        if not empty:
            layers.append(LayerBlob(diff_id, mt.OCI_LAYER, size))
        return images.register(
            json.dumps(document, separators=(",", ":")).encode(), layers, names=names, parent=base.id
        )


def new_config(
    image: dict,
    container: Container,
    diff_id: str | None,
    comment: str | None,
    author: str | None,
    changes: list[str],
    overrides: dict | None,
) -> dict:
    """The committed image's config document (pure); `diff_id` None: the container changed nothing."""
    runtime = {**container.config, "Labels": container.config.get("Labels") or {}}
    runtime.update({k: v for k, v in (overrides or {}).items() if v not in (None, "", [], {})})
    runtime = apply_changes(runtime, changes)
    created = now_rfc3339()
    entry: dict = {"created": created, "created_by": " ".join(container.config.get("Cmd") or [])}
    if author:
        entry["author"] = author
    if comment:
        entry["comment"] = comment
    if diff_id is None:
        entry["empty_layer"] = True
    diff_ids = image.get("rootfs", {}).get("diff_ids", [])
    document = {
        **image,
        "created": created,
        "config": runtime,
        "container": container.id,
        "container_config": {**container.config, "Labels": container.config.get("Labels") or {}},
        "rootfs": {"type": "layers", "diff_ids": [*diff_ids, diff_id] if diff_id else list(diff_ids)},
        "history": [*image.get("history", []), entry],
    }
    if author:
        document["author"] = author
    document.pop("parent", None)  # metadata, not config (an image committed by dockyard before 2026-12-06)
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

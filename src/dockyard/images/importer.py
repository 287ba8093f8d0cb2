"""`docker import`: a root filesystem tarball becomes a one-layer image.

The tarball (plain, gzip or zstd) is decompressed while it is stored, so the stored blob is
the layer tar itself and its digest is the layer's diff_id.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import BinaryIO

from dockyard import faults
from dockyard.archive.compression import decompressed_chunks
from dockyard.images.changes import apply_changes
from dockyard.images.service import ImageService, LayerBlob
from dockyard.images.store import ImageRecord
from dockyard.oci import mediatypes as mt
from dockyard.oci.platform import host_platform, parse_platform
from dockyard.timestamps import now_rfc3339


def import_rootfs(
    service: ImageService,
    source: BinaryIO,
    changes: list[str],
    message: str | None,
    platform: str | None,
    names: Sequence[str] = (),
) -> ImageRecord:
    """Store the tarball as a layer and register an image around it, named `names`.
    Raises InvalidArgument."""
    with service.leases.lease() as lease:  # the blob stays until the image records it
        with lease.writer(service.content) as writer:
            for chunk in decompressed_chunks(source):
                writer.write(chunk)
            size = writer.offset
            diff_id = writer.commit()
        faults.point("import.after-blob")
        config = _config(diff_id, changes, message, platform)
        return service.register(config, [LayerBlob(diff_id, mt.OCI_LAYER, size)], names=names)


def _config(diff_id: str, changes: list[str], message: str | None, platform: str | None) -> bytes:
    """The new image's config document."""
    target = parse_platform(platform) if platform else host_platform()
    now = now_rfc3339()
    config = {
        "architecture": target.architecture,
        "os": target.os,
        "created": now,
        "config": apply_changes({}, changes),
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": now, "comment": message or "Imported from -"}],
    }
    if target.variant:
        config["variant"] = target.variant
    return json.dumps(config, separators=(",", ":")).encode()

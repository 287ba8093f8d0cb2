"""Test images made by hand: gzip layer tars, a config, a manifest, an index, in a content store."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile

from dockyard.content.local import LocalContentStore
from dockyard.oci import mediatypes as mt
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.manifest import Index, Manifest
from dockyard.oci.platform import Platform


def layer_tar(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1700000000, 0o644
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def noise(size: int, seed: str) -> bytes:
    """Incompressible bytes, so compressed layers keep their size."""
    out, counter = bytearray(), 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def make_image(
    store: LocalContentStore, layers: list[dict[str, bytes]], arch: str = "amd64", oci: bool = False
) -> Manifest:
    """Write layers (gzip), a config and return the manifest (written to the store too)."""
    layer_type = mt.OCI_LAYER_GZIP if oci else mt.DOCKER_LAYER_GZIP
    descriptors, diff_ids = [], []
    for files in layers:
        tar = layer_tar(files)
        blob = gzip.compress(tar, compresslevel=1, mtime=0)
        descriptors.append(Descriptor(layer_type, store.write_blob(blob), len(blob)))
        diff_ids.append(str(Digest.of(tar)))
    config = json.dumps(
        {
            "architecture": arch,
            "os": "linux",
            "config": {"Cmd": ["sh"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [{"created_by": f"layer {i}"} for i in range(len(layers))],
        }
    ).encode()
    config_type = mt.OCI_CONFIG if oci else mt.DOCKER_CONFIG
    manifest = Manifest(
        mt.OCI_MANIFEST if oci else mt.DOCKER_MANIFEST,
        Descriptor(config_type, store.write_blob(config), len(config)),
        tuple(descriptors),
    )
    store.write_blob(manifest.to_bytes())
    return manifest


def make_index(store: LocalContentStore, images: dict[str, Manifest], oci: bool = True) -> Index:
    entries = []
    for platform, manifest in images.items():
        os_, arch, *variant = platform.split("/")
        d = manifest.descriptor()
        entries.append(
            Descriptor(d.media_type, d.digest, d.size, platform=Platform(os_, arch, variant[0] if variant else ""))
        )
    index = Index(mt.OCI_INDEX if oci else mt.DOCKER_MANIFEST_LIST, tuple(entries))
    store.write_blob(index.to_bytes())
    return index

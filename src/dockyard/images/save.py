"""`docker save`: images to one tar stream readable by `docker load` and by OCI tools.

The archive has both shapes Docker 25+ writes:

    oci-layout, index.json        OCI image layout, one manifest per image, named by annotations
    manifest.json, repositories   Docker's legacy index of configs, layers and tags
    blobs/sha256/<hex>            configs, manifests and uncompressed layer tars
"""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from dockyard.archive.compression import decompressed_chunks
from dockyard.chunks import produced
from dockyard.images.service import ImageService
from dockyard.images.store import ImageRecord
from dockyard.oci import mediatypes as mt
from dockyard.oci.reference import parse_reference

CHUNK = 1 << 20


def save(service: ImageService, images: list[tuple[ImageRecord, list[str]]], tmp_dir: Path) -> Iterator[bytes]:
    """Yield the archive of `images`, each with the tags (full references) to record for it."""
    return produced(lambda out: _write_archive(service, images, tmp_dir, out), "image-save")


def _write_archive(
    service: ImageService, images: list[tuple[ImageRecord, list[str]]], tmp_dir: Path, out: BinaryIO
) -> None:
    written: set[str] = set()
    legacy, index_manifests, repositories = [], [], {}
    with (
        service.leases.lease() as lease,  # the manifests written for the archive, against the collector
        tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar,
    ):
        _add_dir(tar, "blobs")
        _add_dir(tar, "blobs/sha256")
        for image, tags in images:
            layer_paths = [_add_layer(service, tar, layer, tmp_dir, written) for layer in image.layers]
            config_path = _add_blob(service, tar, image.id, written)
            manifest = _uncompressed_manifest(service, image)
            manifest_bytes = json.dumps(manifest, separators=(",", ":")).encode()
            manifest_digest = service.put_blob(manifest_bytes, lease)
            _add_blob(service, tar, manifest_digest, written)
            familiar = [parse_reference(t).familiar() for t in tags]
            legacy.append({"Config": config_path, "RepoTags": familiar or None, "Layers": layer_paths})
            for tag, short in zip(tags, familiar, strict=False):
                index_manifests.append(_index_entry(manifest_digest, len(manifest_bytes), tag, short))
                repo, _, name = short.rpartition(":")
                repositories.setdefault(repo, {})[name] = image.layers[-1].diff_id.hex if image.layers else ""
            if not tags:
                index_manifests.append(
                    {"mediaType": mt.OCI_MANIFEST, "digest": manifest_digest, "size": len(manifest_bytes)}
                )
        _add_bytes(
            tar, "index.json", _dumps({"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": index_manifests})
        )
        _add_bytes(tar, "manifest.json", _dumps(legacy))
        _add_bytes(tar, "oci-layout", _dumps({"imageLayoutVersion": "1.0.0"}))
        if repositories:
            _add_bytes(tar, "repositories", _dumps(repositories))


def _uncompressed_manifest(service: ImageService, image: ImageRecord) -> dict:
    """The image's OCI manifest with its layers as the uncompressed tars the archive holds."""
    config_size = service.content.size(image.id)
    return {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": {"mediaType": mt.OCI_CONFIG, "digest": image.id, "size": config_size},
        "layers": [
            {"mediaType": mt.OCI_LAYER, "digest": layer.diff_id, "size": _uncompressed_size(service, layer)}
            for layer in image.layers
        ],
    }


def _uncompressed_size(service: ImageService, layer) -> int:
    if layer.digest == layer.diff_id:
        return layer.size
    with service.content.open(layer.digest) as blob:
        return sum(len(chunk) for chunk in decompressed_chunks(blob))


def _index_entry(digest: str, size: int, tag: str, familiar: str) -> dict:
    return {
        "mediaType": mt.OCI_MANIFEST,
        "digest": digest,
        "size": size,
        "annotations": {
            "io.containerd.image.name": tag,
            "org.opencontainers.image.ref.name": familiar.rpartition(":")[2],
        },
    }


def _add_layer(service: ImageService, tar: tarfile.TarFile, layer, tmp_dir: Path, written: set[str]) -> str:
    name = f"blobs/sha256/{layer.diff_id.hex}"
    if name in written:
        return name
    written.add(name)
    if layer.digest == layer.diff_id:
        with service.content.open(layer.digest) as blob:
            _add_file(tar, name, blob, layer.size)
        return name
    with tempfile.TemporaryFile(dir=tmp_dir) as spool:
        with service.content.open(layer.digest) as blob:
            for chunk in decompressed_chunks(blob):
                spool.write(chunk)
        size = spool.tell()
        spool.seek(0)
        _add_file(tar, name, spool, size)
    return name


def _add_blob(service: ImageService, tar: tarfile.TarFile, digest, written: set[str]) -> str:
    name = f"blobs/sha256/{digest.hex}"
    if name not in written:
        written.add(name)
        with service.content.open(digest) as blob:
            _add_file(tar, name, blob, service.content.size(digest))
    return name


def _add_file(tar: tarfile.TarFile, name: str, data: BinaryIO, size: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o444, 0
    tar.addfile(info, data)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    _add_file(tar, name, io.BytesIO(data), len(data))


def _add_dir(tar: tarfile.TarFile, name: str) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 0
    tar.addfile(info)


def _dumps(data: object) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()

"""`docker load`: read a `docker save` archive or an OCI image layout archive.

The archive is spooled to a file and read in place, member by member: nothing in it is ever
extracted to a path, so a hostile member name cannot write anywhere. Every blob is
verified by the content store and every layer by its diff_id before the image is recorded.
"""

from __future__ import annotations

import json
import posixpath
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from dockyard import faults
from dockyard.content.store import ContentWriter
from dockyard.errors import InvalidArgument, NoSpace
from dockyard.images.service import ImageService, LayerBlob
from dockyard.oci import mediatypes as mt
from dockyard.oci.digest import Digest
from dockyard.oci.reference import parse_reference

CHUNK = 1 << 20
_MAGIC = {b"\x1f\x8b": "gzip", b"\x28\xb5\x2f\xfd": "zstd"}


class InvalidArchive(InvalidArgument):
    """What the archive holds is unreadable (not the request carrying it): dockerd reports
    it in the load's progress stream, after its 200."""


@dataclass(frozen=True, slots=True)
class LoadedImage:
    image_id: Digest
    tags: tuple[str, ...]


def load(service: ImageService, source: BinaryIO, tmp_dir: Path) -> Iterator[LoadedImage]:
    """Load every image in the archive, tagging it as the archive says.

    Raises InvalidArgument for anything that is not a readable image archive.
    """
    with tempfile.TemporaryFile(dir=tmp_dir) as spool:
        with NoSpace.translating(tmp_dir):
            shutil.copyfileobj(source, spool, CHUNK)
        spool.seek(0)
        try:
            archive = tarfile.open(fileobj=spool, mode="r:*")
        except tarfile.TarError:
            # dockerd's words for an archive its untar cannot read
            raise InvalidArchive("Error processing tar file(exit status 1): unexpected EOF") from None
        with archive:
            reader = _ArchiveReader(archive)
            entries = reader.docker_entries() if reader.has("manifest.json") else reader.oci_entries()
            for config_name, layer_names, tags in entries:
                yield _load_one(service, reader, config_name, layer_names, tags)


def _load_one(
    service: ImageService, reader: _ArchiveReader, config_name: str, layer_names: list[str], tags: list[str]
) -> LoadedImage:
    config_bytes = reader.read(config_name)
    references = [parse_reference(tag) for tag in tags]
    with service.leases.lease() as lease:  # the blobs stay until the image records them
        layers = []
        for name in layer_names:
            layers.append(reader.ingest_layer(lease.writer(service.content, size=reader.member(name).size), name))
            faults.point("load.after-blob")
        faults.point("load.before-record")
        image = service.register(config_bytes, layers, names=[str(r) for r in references])
    return LoadedImage(image.id, tuple(r.familiar() for r in references))


class _ArchiveReader:
    """Named members of an image archive, read without extracting."""

    def __init__(self, archive: tarfile.TarFile) -> None:
        self._archive = archive
        self._members = {posixpath.normpath(m.name.lstrip("./")): m for m in archive.getmembers() if m.isfile()}

    def has(self, name: str) -> bool:
        return posixpath.normpath(name) in self._members

    def member(self, name: str) -> tarfile.TarInfo:
        member = self._members.get(posixpath.normpath(name))
        if member is None:
            raise InvalidArchive(f"invalid image archive: missing {name}")
        return member

    def read(self, name: str, limit: int = 64 << 20) -> bytes:
        member = self.member(name)
        if member.size > limit:
            raise InvalidArchive(f"invalid image archive: {name} is too large")
        return self._archive.extractfile(member).read()

    def read_json(self, name: str) -> object:
        try:
            return json.loads(self.read(name))
        except ValueError as exc:
            raise InvalidArchive(f"invalid image archive: {name}: {exc}") from None

    def ingest_layer(self, writer: ContentWriter, name: str) -> LayerBlob:
        """Copy the member into the content store through `writer` (sized for it)."""
        member = self.member(name)
        stream = self._archive.extractfile(member)
        head = stream.read(4)
        stream.seek(0)
        compression = next((kind for magic, kind in _MAGIC.items() if head.startswith(magic)), "none")
        media_type = {"gzip": mt.OCI_LAYER_GZIP, "zstd": mt.OCI_LAYER_ZSTD}.get(compression, mt.OCI_LAYER)
        with writer:
            while chunk := stream.read(CHUNK):
                writer.write(chunk)
            digest = writer.commit()
        return LayerBlob(digest, media_type, member.size)

    def docker_entries(self) -> list[tuple[str, list[str], list[str]]]:
        manifest = self.read_json("manifest.json")
        if not isinstance(manifest, list):
            raise InvalidArchive("invalid image archive: manifest.json is not a list")
        try:
            return [(e["Config"], list(e["Layers"]), list(e.get("RepoTags") or [])) for e in manifest]
        except (KeyError, TypeError) as exc:
            raise InvalidArchive(f"invalid image archive: manifest.json: {exc}") from None

    def oci_entries(self) -> list[tuple[str, list[str], list[str]]]:
        if not self.has("index.json"):
            raise InvalidArchive("invalid image archive: neither manifest.json nor index.json found")
        entries = []
        for descriptor, tags in self._walk_index(self.read_json("index.json"), []):
            manifest = self.read_json(_blob_path(descriptor["digest"]))
            layers = [_blob_path(layer["digest"]) for layer in manifest.get("layers", [])]
            entries.append((_blob_path(manifest["config"]["digest"]), layers, tags))
        return entries

    def _walk_index(self, index: object, inherited: list[str]) -> Iterator[tuple[dict, list[str]]]:
        if not isinstance(index, dict):
            raise InvalidArchive("invalid image archive: index is not an object")
        for descriptor in index.get("manifests", []):
            annotations = descriptor.get("annotations") or {}
            name = annotations.get("io.containerd.image.name")
            tags = [name] if name else inherited
            if descriptor.get("mediaType") in mt.INDEXES:
                yield from self._walk_index(self.read_json(_blob_path(descriptor["digest"])), tags)
            else:
                yield descriptor, tags


def _blob_path(digest: str) -> str:
    algorithm, _, hexdigest = Digest(digest).partition(":")
    return f"blobs/{algorithm}/{hexdigest}"

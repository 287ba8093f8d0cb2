"""`docker push`: an image's manifest, config and layers from the content store to a registry.

Plain-tar layers (imported, loaded, committed images) are pushed as their gzip twins
(images/compressed.py) under a manifest of the same kind that lists them; compressed layers
go as they are. Blobs the image was pulled with from another repository of the same registry
are mounted from there. The pushed manifest's digest becomes a repo digest of the image.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from dockyard.distribution import progress as p
from dockyard.distribution.client import Registries
from dockyard.distribution.credentials import Credentials
from dockyard.distribution.pusher import Pusher
from dockyard.errors import NotFound
from dockyard.images.compressed import CompressedLayers
from dockyard.images.pins import Lease
from dockyard.images.service import ImageService
from dockyard.images.store import ImageRecord
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.manifest import Manifest
from dockyard.oci.reference import Reference, parse_reference


class ImagePusher:
    """Pushes images of an ImageService to registries."""

    def __init__(self, service: ImageService, registries: Registries, compressed: CompressedLayers) -> None:
        self.service = service
        self.registries = registries
        self.compressed = compressed

    def tags(self, repository: Reference) -> list[Reference]:
        """Every local tag of a repository, for `push --all-tags`."""
        tags = [parse_reference(t) for image in self.service.store.all() for t in image.tags]
        return sorted((t for t in tags if t.name == repository.name), key=str)

    def image(self, ref: Reference) -> ImageRecord:
        """Raises NotFound with docker's words when nothing local has that name."""
        image_id = (
            self.service.store.tagged(str(ref))
            if ref.digest is None
            else self.service.store.by_repo_digest(f"{ref.name}@{ref.digest}")
        )
        if image_id is None:
            raise NotFound(f"An image does not exist locally with the tag: {ref.familiar_name()}")
        return self.service.store.get(image_id)

    def push(
        self, ref: Reference, credentials: Credentials | None = None, progress: p.ProgressCallback = p.ignore
    ) -> Descriptor:
        """Push the image named `ref`; return the pushed manifest's descriptor.

        Raises:
            NotFound: no such local image, or a blob of it is missing.
            Unauthorized, Forbidden, Unavailable: as the registry answered.
        """
        image = self.image(ref)
        with self.service.leases.lease() as lease:  # the gzip twins and the converted manifest
            manifest = self.distributable(image, lease)
            descriptor = Pusher(self.registries).push(
                ref, manifest, self.service.content, progress, self._mount_sources(image, ref), credentials
            )
            self.service.store.add_repo_digest(f"{ref.name}@{descriptor.digest}", image.id)
        return descriptor

    def distributable(self, image: ImageRecord, lease: Lease) -> Manifest:
        """The image's manifest with plain layers replaced by their gzip twins (held by `lease`)."""
        manifest = self.service.manifest(image)
        layers = tuple(self.compressed.distributable(layer, lease) for layer in manifest.layers)
        if layers == manifest.layers:
            return manifest
        converted = replace(manifest, layers=layers, raw=b"")
        self.service.put_blob(converted.to_bytes(), lease)
        return converted

    def _mount_sources(self, image: ImageRecord, ref: Reference) -> Mapping[Digest, str]:
        """Blobs the image came with from another repository of the same registry."""
        manifest = self.service.manifest(image)
        for name in image.repo_digests:
            other = parse_reference(name)
            if other.domain == ref.domain and other.path != ref.path:
                return {d.digest: other.path for d in (manifest.config, *manifest.layers)}
        return {}

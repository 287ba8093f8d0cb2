"""`docker pull`: resolve, fetch and unpack in parallel, register, tag. All or nothing.

    resolve (manifest, through an index for the platform; config)
      -> hold the locks of every blob and chain ID the image needs
      -> fetch config + layers in parallel into the content store, each verified while it
         streams and staged (extracted, diff_id checked) as it arrives; each staged layer is
         published as soon as its parent is (images/unpack.py)
      -> register the image with its tag and repo digest, in one step (ImageService.register)

A pull that fails discards what it staged and deletes the blobs it published and the layers
it unpacked, but those an image recorded meanwhile uses (a load of the same layers), so
nothing half-pulled is visible; the locks (pins) keep a concurrent pull sharing a blob or
layer, and the collector (images/gc.py), from making it vanish. A pull killed outright
leaves blobs and layers no image references: the collector removes them at the next start.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from dockyard import faults
from dockyard.distribution import progress as p
from dockyard.distribution.client import Registries
from dockyard.distribution.credentials import Credentials
from dockyard.distribution.fetcher import Fetcher
from dockyard.distribution.resolver import ResolvedImage, Resolver
from dockyard.errors import NotFound
from dockyard.images.gc import Roots, mark
from dockyard.images.service import ImageService, LayerBlob
from dockyard.images.store import ImageRecord
from dockyard.images.unpack import LayerUnpacker, plan_layers
from dockyard.oci.digest import Digest
from dockyard.oci.platform import Platform
from dockyard.oci.reference import Reference

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Pulled:
    """What a pull brought: the image, the repo digest, and whether it was new for this name."""

    reference: Reference
    image: ImageRecord
    digest: Digest
    fresh: bool


class Puller:
    """Pulls images from registries into an ImageService."""

    def __init__(self, service: ImageService, registries: Registries) -> None:
        self.service = service
        self.registries = registries

    def resolve(
        self, ref: Reference, platform: Platform | None = None, credentials: Credentials | None = None
    ) -> ResolvedImage:
        """Raises what Resolver.resolve raises (NotFound, Unauthorized, NotSupported, ...)."""
        return Resolver(self.registries).resolve(ref, platform, credentials)

    def tags(self, ref: Reference, credentials: Credentials | None = None) -> list[str]:
        """Every tag of the repository, for `pull --all-tags`."""
        return sorted(Resolver(self.registries).tags(ref, credentials))

    def pull(
        self, resolved: ResolvedImage, credentials: Credentials | None = None, progress: p.ProgressCallback = p.ignore
    ) -> Pulled:
        """Bring a resolved image in, register and name it.

        Raises:
            VerificationFailed: a blob did not match its digest.
            InvalidArgument: a layer is not a valid tar or does not match the config.
            NotFound, Unauthorized, Unavailable: as the registry answered.
        """
        layers = plan_layers(resolved.layers, resolved.config.diff_ids)
        keys = [
            resolved.config_descriptor.digest,
            resolved.manifest_descriptor.digest,
            *(layer.descriptor.digest for layer in layers),
            *(layer.chain_id for layer in layers),
        ]
        with self.service.pins.hold(keys):
            ref = resolved.reference
            before = self._named(ref)
            names = [f"{ref.name}@{resolved.digest}", *([str(ref)] if ref.digest is None else [])]
            image = self._bring(resolved, layers, names, credentials, progress)
            return Pulled(ref, image, resolved.digest, before != image.id)

    def _named(self, ref: Reference) -> Digest | None:
        """The image the reference names before the pull, if any."""
        if ref.digest is not None:
            return self.service.store.by_repo_digest(f"{ref.name}@{ref.digest}")
        return self.service.store.tagged(str(ref))

    def _bring(
        self,
        resolved: ResolvedImage,
        layers: list,
        names: list[str],
        credentials: Credentials | None,
        progress: p.ProgressCallback,
    ) -> ImageRecord:
        content = self.service.content
        manifest_existed = content.exists(resolved.manifest_descriptor.digest)
        unpacker = LayerUnpacker(self.service.snapshots, content, layers, progress)
        blobs = [resolved.config_descriptor, *resolved.layers]
        published: list[Digest] = []
        try:
            published = Fetcher(self.registries).fetch(
                resolved.reference,
                blobs,
                content,
                progress,
                resolved.endpoint,
                credentials,
                unpacker.sink,
                undo=published.extend,  # a failed fetch's blobs go in _undo, with the rest
            )
            faults.point("pull.after-fetch")
            unpacker.finish()
            faults.point("pull.before-record")
            config = resolved.config.raw or _read(self.service, resolved.config_descriptor.digest)
            return self.service.register(
                config, [LayerBlob(d.digest, d.media_type, d.size) for d in resolved.layers], resolved.manifest, names
            )
        except BaseException:
            doomed = published + ([] if manifest_existed else [resolved.manifest_descriptor.digest])
            for step in (unpacker.stop, lambda: self._undo(unpacker, doomed)):
                try:
                    step()
                except Exception as cleanup:  # the pull's own error is the one to report
                    log.warning("cleaning up after the failed pull of %s: %s", resolved.reference, cleanup)
            raise

    def _undo(self, unpacker: LayerUnpacker, blobs: list[Digest]) -> None:
        """Remove the layers and blobs a failed pull brought in, but those an image recorded
        meanwhile uses (a load of the same layers) or a lease holds: the pull's pins keep
        other pulls away, not loads, imports and commits."""
        with self.service.locked(), self.service.leases.guard:
            roots = Roots(tuple(self.service.all()), held=frozenset(self.service.leases.held()))
            live = mark(roots, {})  # an image lists every chain ID of its own
            unpacker.remove_published(spare=live.layers)
            for digest in blobs:
                if digest not in live.blobs:
                    _delete(self.service, digest)


def _read(service: ImageService, digest: Digest) -> bytes:
    with service.content.open(digest) as f:
        return f.read()


def _delete(service: ImageService, digest: Digest) -> None:
    try:
        service.content.delete(digest)
    except NotFound:
        pass

"""The image service: resolve names, register images from blobs, tag, remove, prune.

Every way an image arrives (import, load, pull, build) ends in `register()`: the config and
layer blobs are already in the content store; register unpacks each layer once into the
snapshotter (shared by chain ID), checks each diff_id against the config, writes the
manifest, and records the image in one transaction. A failure leaves no record.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from dockyard import faults
from dockyard.content.store import ContentStore
from dockyard.errors import Conflict, InvalidArgument, NoSuchImage
from dockyard.images.pins import KeyedLocks, Lease, Leases
from dockyard.images.store import ImageRecord, ImageStore, LayerRef
from dockyard.oci import mediatypes as mt
from dockyard.oci.config import ImageConfig
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest, chain_id
from dockyard.oci.manifest import Manifest
from dockyard.oci.reference import Reference, parse_reference
from dockyard.snapshots.snapshotter import DiffIdMismatch, Snapshotter

_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True, slots=True)
class LayerBlob:
    """A layer blob already in the content store."""

    digest: Digest
    media_type: str
    size: int


@dataclass(frozen=True, slots=True)
class ImageUser:
    """A container that uses an image."""

    container_id: str
    running: bool


@dataclass(frozen=True, slots=True)
class Removal:
    image_id: Digest
    untagged: tuple[str, ...]
    deleted: tuple[Digest, ...]


class ImageService:
    """Images over a content store, a snapshotter and the metadata database."""

    def __init__(self, store: ImageStore, content: ContentStore, snapshots: Snapshotter) -> None:
        self.store = store
        self.content = content
        self.snapshots = snapshots
        self.pins = KeyedLocks()  # blobs and layers a pull is bringing in
        self.leases = Leases()  # blobs a load, import or commit wrote, until it records its image
        self._lock = threading.RLock()

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold off removals and layer clean-up (while a container takes an image into use)."""
        with self._lock:
            yield

    # -- lookups -----------------------------------------------------------------------

    def all(self) -> list[ImageRecord]:
        """Every image."""
        return self.store.all()

    def resolve(self, ref: str) -> ImageRecord:
        """Find an image as docker does: by name[:tag], name@digest, full ID or ID prefix.

        Raises NoSuchImage naming the reference as moby does (`nope:latest`), InvalidArgument
        for a name that is no reference (`invalid reference format`).
        """
        image_id = self._lookup(ref)
        if image_id is None:
            raise NoSuchImage(_missing(ref))
        return self.store.get(image_id)

    def _lookup(self, ref: str) -> Digest | None:
        candidate = ref.removeprefix("sha256:")
        if candidate and set(candidate) <= _HEX and len(candidate) <= 64:
            if len(candidate) == 64:
                return Digest("sha256:" + candidate) if self._exists(Digest("sha256:" + candidate)) else None
            if not ref.startswith("sha256:") and self._named(ref) is not None:
                return self._named(ref)
            matches = self.store.find_by_prefix(candidate)
            if len(matches) > 1:
                raise InvalidArgument(f"multiple IDs found with provided prefix: {candidate}")
            return matches[0] if matches else None
        return self._named(ref)

    def _named(self, ref: str) -> Digest | None:
        try:
            reference = parse_reference(ref)
        except InvalidArgument:
            return None
        if reference.digest:
            return self.store.by_repo_digest(f"{reference.name}@{reference.digest}")
        return self.store.tagged(str(reference))

    def _exists(self, image_id: Digest) -> bool:
        try:
            self.store.get(image_id)
            return True
        except NoSuchImage:
            return False

    def config(self, image: ImageRecord) -> dict:
        """The image's config JSON document."""
        with self.content.open(image.id) as f:
            return json.loads(f.read())

    def parent_of(self, image_id: Digest) -> Digest | None:
        """The image this one was built or committed on, as recorded (here or not)."""
        return self.store.parent(image_id)

    def parents(self) -> set[Digest]:
        """Every image some other image was built or committed on."""
        return self.store.parents()

    def manifest(self, image: ImageRecord) -> Manifest:
        from dockyard.oci.manifest import parse_manifest

        with self.content.open(image.manifest_digest) as f:
            raw = f.read()
        manifest = parse_manifest("", raw)
        assert isinstance(manifest, Manifest)
        return manifest

    # -- registration ------------------------------------------------------------------

    def put_blob(self, data: bytes, lease: Lease | None = None) -> Digest:
        """Store a small blob (config, manifest) and return its digest; `lease` holds it (for a
        blob no image will record: the collector would take it from under its reader)."""
        digest = Digest.of(data)
        if lease is not None:
            lease.hold(digest)
        if not self.content.exists(digest):
            with self.content.writer(expected=digest, size=len(data)) as writer:
                writer.write(data)
                writer.commit()
        return digest

    def register(
        self,
        config_bytes: bytes,
        layers: list[LayerBlob],
        manifest: Manifest | None = None,
        names: Sequence[str] = (),
        parent: Digest | None = None,
    ) -> ImageRecord:
        """Unpack the layers, verify their diff_ids, store manifest and config, record the image
        with `names` (full tags and repo digests) in the same step, so `image prune` never
        takes it between the two, and with the `parent` it was built or committed on.

        Raises InvalidArgument when the layers do not match the config.
        """
        config = ImageConfig.from_json(config_bytes)
        diff_ids = list(config.diff_ids)
        if len(diff_ids) != len(layers):
            raise InvalidArgument(f"image config lists {len(diff_ids)} layers but {len(layers)} were given")
        with self._lock:
            size = self._unpack_all(diff_ids, layers)
            image_id = self.put_blob(config_bytes)
            if manifest is None:
                manifest = _synthesize_manifest(image_id, len(config_bytes), layers)
            manifest_digest = self.put_blob(manifest.to_bytes())
            faults.point("register.before-record")
            refs = [
                LayerRef(d, blob.digest, blob.media_type, blob.size) for d, blob in zip(diff_ids, layers, strict=False)
            ]
            self.store.add(
                image_id, manifest_digest, refs, size, config.created or "1970-01-01T00:00:00Z", names, parent
            )
        return self.store.get(image_id)

    def _unpack_all(self, diff_ids: list[Digest], layers: list[LayerBlob]) -> int:
        size, parent = 0, None
        for i, (diff_id, blob) in enumerate(zip(diff_ids, layers, strict=False)):
            chain = chain_id(diff_ids[: i + 1])
            if not self.snapshots.has_layer(chain):
                with self.content.open(blob.digest) as f:
                    try:
                        self.snapshots.unpack(chain, parent, f, diff_id)
                    except DiffIdMismatch as exc:
                        raise InvalidArgument(
                            f"layer {blob.digest} has diff_id {exc.actual}, the config expects {diff_id}"
                        ) from None
            size += self.snapshots.layer(chain).size
            parent = chain
        return size

    # -- tags and removal --------------------------------------------------------------

    def tag(self, ref: str, target: str) -> Reference:
        image = self.resolve(ref)
        reference = tag_reference(target)
        self.store.tag(str(reference), image.id)
        return reference

    def remove(
        self, ref: str, force: bool, in_use: Callable[[Digest], ImageUser | None], prune: bool = True
    ) -> Removal:
        """Untag or delete as `docker rmi` does; `in_use(image_id)` names a container using it.

        Even forced, an image a running container uses, or one other images were built on, is
        only untagged, never deleted (and refused by ID). With `prune`, each parent left without
        a name, a child or a container goes too, as moby's rmi does unless --no-prune.
        Raises NoSuchImage, Conflict.
        """
        with self._lock:
            image = self.resolve(ref)
            named = self._by_name(ref, image)
            if named:
                going = (named, *_orphaned_digests(named, image))
                if (set(image.tags) | set(image.repo_digests)) - set(going):
                    for name in going:
                        self._forget_name(name)
                    return Removal(image.id, going, ())
            if not named and self.store.children(image.id):
                raise Conflict(
                    f"conflict: unable to delete {image.id.short} (cannot be forced) - image has dependent child images"
                )
            user = in_use(image.id)
            if user and not force:
                what = f'repository reference "{ref}"' if named else image.id.short
                raise Conflict(
                    f"conflict: unable to remove {what} (must force) - container "
                    f"{user.container_id[:12]} is using its referenced image {image.id.short}"
                )
            if user and user.running:
                if not named:
                    raise Conflict(
                        f"conflict: unable to delete {image.id.short} (cannot be forced) - image is "
                        f"being used by running container {user.container_id[:12]}"
                    )
                self._forget_name(named)
                return Removal(image.id, (named,), ())
            if named and self.store.children(image.id):  # the last name goes; the image stays for its children
                for name in going:
                    self._forget_name(name)
                return Removal(image.id, going, ())
            if not named and len(image.tags) > 1 and not force:
                raise Conflict(
                    f"conflict: unable to delete {image.id.short} (must be forced) - image is referenced in multiple repositories"
                )
            untagged = tuple(image.tags) + tuple(image.repo_digests)
            parent = self._delete(image)
            deleted = (image.id, *(self._prune_parents(parent, in_use) if prune else ()))
            return Removal(image.id, untagged, deleted)

    def _delete(self, image: ImageRecord) -> Digest | None:
        """Delete the record (with its names); return its parent's ID."""
        parent = self.store.parent(image.id)
        self.store.delete(image.id)
        return parent

    def _prune_parents(self, parent_id: Digest | None, in_use: Callable[[Digest], ImageUser | None]) -> list[Digest]:
        """Delete the parent, and its parent in turn, while each is left nameless, childless and
        unused (moby's quiet prune after an rmi: it stops at the first that is not)."""
        deleted = []
        while parent_id is not None:
            try:
                parent = self.store.get(parent_id)
            except NoSuchImage:
                break
            if parent.tags or parent.repo_digests or self.store.children(parent.id) or in_use(parent.id):
                break
            parent_id = self._delete(parent)
            deleted.append(parent.id)
        return deleted

    def _by_name(self, ref: str, image: ImageRecord) -> str | None:
        try:
            reference = parse_reference(ref)
        except InvalidArgument:
            return None
        name = f"{reference.name}@{reference.digest}" if reference.digest else str(reference)
        return name if name in image.tags or name in image.repo_digests else None

    def _forget_name(self, name: str) -> None:
        if "@" in name:
            self.store.delete_repo_digest(name)
        else:
            self.store.untag(name)


def tag_reference(target: str) -> Reference:
    """`target` as a tag to record. Raises InvalidArgument for no reference or a digest one."""
    reference = parse_reference(target)
    if reference.digest:
        raise InvalidArgument("refusing to create a tag with a digest reference")
    return reference


def _orphaned_digests(tag: str, image: ImageRecord) -> tuple[str, ...]:
    """The repo digests that go with the last tag of their repository (moby image_delete.go)."""
    if "@" in tag:
        return ()
    repository = parse_reference(tag).name
    if any(parse_reference(other).name == repository for other in image.tags if other != tag):
        return ()
    return tuple(d for d in image.repo_digests if parse_reference(d).name == repository)


def _synthesize_manifest(config_digest: Digest, config_size: int, layers: list[LayerBlob]) -> Manifest:
    return Manifest(
        media_type=mt.OCI_MANIFEST,
        config=Descriptor(mt.OCI_CONFIG, config_digest, config_size),
        layers=tuple(Descriptor(blob.media_type, blob.digest, blob.size) for blob in layers),
    )


def _missing(ref: str) -> str:
    """How moby names an image it did not find: an ID as given, a name normalised and tagged."""
    candidate = ref.removeprefix("sha256:")
    if candidate and set(candidate) <= _HEX and len(candidate) <= 64:
        return ref
    return parse_reference(ref).familiar()  # raises InvalidArgument for what is no reference

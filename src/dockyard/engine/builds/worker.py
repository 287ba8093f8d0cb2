"""The builder's Worker (dockyard.build.worker) over the engine's images and containers.

RUN steps are ordinary containers of the ContainerService (same runtime, isolation and
networking as `docker run`), attached before they start so no output is missed; their
diff becomes the new layer. COPY, ADD and WORKDIR write their layer tar directly, looking
at the parent through a temporary read-only use of a snapshot (`containers/build-<random>/`,
which a crashed daemon's successor removes at start-up like any orphan).
"""

from __future__ import annotations

import json
import secrets
import tempfile
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from pathlib import Path

from dockyard.build.layertar import LayerWriter
from dockyard.build.reproducible import clamp_mtimes
from dockyard.engine.containers.service import ContainerService
from dockyard.engine.events import EventBus
from dockyard.engine.images.distribution import DistributionService
from dockyard.errors import NoSuchContainer, NoSuchImage, NotSupported
from dockyard.images.service import ImageService, LayerBlob
from dockyard.multiplex import FrameDecoder
from dockyard.oci import mediatypes as mt
from dockyard.oci.digest import Digest
from dockyard.oci.reference import DEFAULT_DOMAIN, parse_reference
from dockyard.paths import DataRoot

_RECV = 1 << 16


class EngineWorker:
    """One build's worker; `epoch` (SOURCE_DATE_EPOCH) clamps the mtimes in new layers."""

    def __init__(
        self,
        root: DataRoot,
        images: ImageService,
        containers: ContainerService,
        distribution: DistributionService | None,
        events: EventBus,
        epoch: int | None = None,
        auths: dict | None = None,
    ) -> None:
        self.root, self.images, self.containers = root, images, containers
        self.snapshots = images.snapshots
        self.distribution, self.events, self.epoch = distribution, events, epoch
        self.auths = auths or {}  # X-Registry-Config: {registry: AuthConfig}

    # -- images -------------------------------------------------------------------------

    def find(self, ref: str) -> str | None:
        try:
            return self.images.resolve(ref).id
        except NoSuchImage:
            return None

    def pull(self, ref: str, platform: str | None) -> Iterator[dict]:
        if self.distribution is None:
            raise NotSupported("pull is not supported without registry access")
        return self.distribution.pull(ref, None, platform, registry_auth(self.auths, ref))

    def exists(self, image_id: str) -> bool:
        try:
            self.images.store.get(image_id)
        except NoSuchImage:
            return False
        return True

    def document(self, image_id: str) -> dict:
        return self.images.config(self.images.store.get(image_id))

    def register(self, parent: str | None, document: dict, layer: LayerBlob | None = None) -> str:
        layers = [] if parent is None else list(self.images.store.get(parent).layers)
        blobs = [LayerBlob(ref.digest, ref.media_type, ref.size) for ref in layers]
        if layer is not None:
            document["rootfs"]["diff_ids"] = [*document["rootfs"].get("diff_ids", []), layer.digest]
            blobs.append(layer)
        raw = json.dumps(document, separators=(",", ":")).encode()
        # as moby's classic builder: each step's image is recorded as the child of the last
        return self.images.register(raw, blobs, parent=Digest(parent) if parent else None).id

    def tag(self, image_id: str, name: str) -> str:
        reference = self.images.tag(image_id, name)
        self.events.publish("image", "tag", image_id, {"name": reference.familiar()})
        return reference.familiar()

    # -- filesystem steps ---------------------------------------------------------------

    def _top(self, image_id: str | None):
        return None if image_id is None else self.images.store.get(image_id).top_layer

    @contextmanager
    def _snapshot(self, image_id: str | None) -> Iterator[tuple[str, Path]]:
        key = f"build-{secrets.token_hex(16)}"
        try:
            self.snapshots.prepare(key, self._top(image_id))
            yield key, self.snapshots.mount(key)
        finally:
            self.snapshots.remove(key)

    def commit(
        self, parent: str | None, document: dict, write: Callable[[Path, LayerWriter], None], keep_empty: bool
    ) -> str | None:
        with self.images.locked(), self._snapshot(parent) as (_key, rootfs):
            with self.images.content.writer() as out:
                layer = LayerWriter(out, self.epoch)
                write(rootfs, layer)
                if not layer.entries and not keep_empty:
                    return None
                layer.close()
                size = out.offset
                digest = out.commit()
            return self.register(parent, document, LayerBlob(digest, mt.OCI_LAYER, size))

    @contextmanager
    def mounted(self, image_id: str | None) -> Iterator[Path]:
        with self._snapshot(image_id) as (_key, rootfs):
            yield rootfs

    def _layer(self, key: str) -> LayerBlob:
        """The snapshot's diff as an uncompressed layer blob (its digest is its diff_id)."""
        with self.images.content.writer() as writer:
            if self.epoch is None:
                self.snapshots.diff(key, writer)
            else:
                with tempfile.TemporaryFile(dir=self.root.tmp) as raw:
                    self.snapshots.diff(key, raw)
                    raw.seek(0)
                    clamp_mtimes(raw, writer, self.epoch)
            size = writer.offset
            digest = writer.commit()
        return LayerBlob(digest, mt.OCI_LAYER, size)

    # -- RUN ----------------------------------------------------------------------------

    def run(self, parent: str, config: dict, host_config: dict) -> Generator[object, None, int]:
        created = self.containers.create(None, config, host_config, None)
        container_id = created["Id"]
        yield container_id
        stream = self.containers.attach(container_id, False, True, True, False, True)
        try:
            self.containers.start(container_id)
            decoder = FrameDecoder()
            while data := stream.recv(_RECV):
                yield from decoder.feed(data)
        finally:
            stream.close()
        return self.containers.wait(container_id, "not-running")["StatusCode"]

    def commit_container(self, container_id: str, document: dict) -> str:
        container = self.containers.get(container_id)
        with self.images.locked():
            layer = self._layer(container.id)
            return self.register(container.image_id, document, layer)

    def remove_container(self, container_id: str) -> None:
        try:
            self.containers.remove(container_id, force=True, volumes=True)
        except NoSuchContainer:
            pass


def registry_auth(auths: dict, ref: str) -> dict | None:
    """The AuthConfig X-Registry-Config holds for the registry of `ref` (Docker Hub's key is
    its v1 index URL)."""
    domain = parse_reference(ref).domain
    keys = ("https://index.docker.io/v1/", "index.docker.io", "docker.io") if domain == DEFAULT_DOMAIN else ()
    for key in (*keys, domain, f"https://{domain}", f"http://{domain}"):
        if isinstance(auths.get(key), dict):
            return auths[key]
    return None

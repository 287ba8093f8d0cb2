"""A whole pull into the content store: resolve, fetch config and layers, then the manifests.

The manifests go in last, so an image's top blobs are visible only once everything below
them is; a pull that fails deletes what it published (Fetcher's all-or-nothing rule).
"""

from __future__ import annotations

from dockyard.content.store import ContentStore
from dockyard.distribution import progress as p
from dockyard.distribution.client import Registries
from dockyard.distribution.credentials import Credentials
from dockyard.distribution.fetcher import Fetcher, SinkFactory
from dockyard.distribution.resolver import ResolvedImage, Resolver
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.platform import Platform
from dockyard.oci.reference import Reference


def pull(
    registries: Registries,
    ref: Reference,
    store: ContentStore,
    platform: Platform | None = None,
    progress: p.ProgressCallback = p.ignore,
    credentials: Credentials | None = None,
    sinks: SinkFactory | None = None,
) -> ResolvedImage:
    """Resolve `ref` and bring its config, layers, manifest and index (if any) into `store`.

    `sinks` (see Fetcher.fetch) lets the caller unpack layers while they download.

    Raises what Resolver.resolve and Fetcher.fetch raise; nothing new is left in the store then.
    """
    resolved = Resolver(registries).resolve(ref, platform, credentials)
    blobs = [resolved.config_descriptor, *resolved.layers]
    published = Fetcher(registries).fetch(ref, blobs, store, progress, resolved.endpoint, credentials, sinks)
    written: list[Digest] = []
    try:
        for descriptor, raw in _manifests(resolved):
            if not store.exists(descriptor.digest):
                written.append(_write(store, raw, descriptor))
    except BaseException:
        for digest in published + written:
            store.delete(digest)
        raise
    return resolved


def _manifests(resolved: ResolvedImage) -> list[tuple[Descriptor, bytes]]:
    out = [(resolved.manifest_descriptor, resolved.manifest.to_bytes())]
    if resolved.index is not None and resolved.index_descriptor is not None:
        out.append((resolved.index_descriptor, resolved.index.to_bytes()))
    return out


def _write(store: ContentStore, raw: bytes, descriptor: Descriptor) -> Digest:
    with store.writer(descriptor.digest, descriptor.size) as writer:
        writer.write(raw)
        return writer.commit()

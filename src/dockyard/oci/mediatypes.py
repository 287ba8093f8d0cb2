"""Media types of OCI and Docker schema2 objects, and what each one is.

    kind        OCI                                             Docker schema2
    index       application/vnd.oci.image.index.v1+json         ...distribution.manifest.list.v2+json
    manifest    application/vnd.oci.image.manifest.v1+json      ...distribution.manifest.v2+json
    config      application/vnd.oci.image.config.v1+json        ...container.image.v1+json
    layer       application/vnd.oci.image.layer.v1.tar[+gzip|+zstd]
                                                                ...image.rootfs.diff.tar[.gzip|.zstd]
    foreign     application/vnd.oci.image.layer.nondistributable.v1.tar[+gzip|+zstd]
                                                                ...image.rootfs.foreign.diff.tar[.gzip]

Docker schema1 (`...distribution.manifest.v1+json` / `+prettyjws`) is recognised only to be refused.
"""

from __future__ import annotations

from typing import Literal

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
OCI_LAYER_FOREIGN = "application/vnd.oci.image.layer.nondistributable.v1.tar"
OCI_LAYER_FOREIGN_GZIP = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
OCI_LAYER_FOREIGN_ZSTD = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"

DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_LAYER_ZSTD = "application/vnd.docker.image.rootfs.diff.tar.zstd"
DOCKER_LAYER_FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar"
DOCKER_LAYER_FOREIGN_GZIP = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"

INDEXES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
MANIFESTS = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
CONFIGS = frozenset({OCI_CONFIG, DOCKER_CONFIG})
SCHEMA1 = frozenset({DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED})

Compression = Literal["none", "gzip", "zstd"]

_LAYERS: dict[str, Compression] = {
    OCI_LAYER: "none",
    OCI_LAYER_GZIP: "gzip",
    OCI_LAYER_ZSTD: "zstd",
    OCI_LAYER_FOREIGN: "none",
    OCI_LAYER_FOREIGN_GZIP: "gzip",
    OCI_LAYER_FOREIGN_ZSTD: "zstd",
    DOCKER_LAYER: "none",
    DOCKER_LAYER_GZIP: "gzip",
    DOCKER_LAYER_ZSTD: "zstd",
    DOCKER_LAYER_FOREIGN: "none",
    DOCKER_LAYER_FOREIGN_GZIP: "gzip",
}
_FOREIGN = frozenset(
    {OCI_LAYER_FOREIGN, OCI_LAYER_FOREIGN_GZIP, OCI_LAYER_FOREIGN_ZSTD, DOCKER_LAYER_FOREIGN, DOCKER_LAYER_FOREIGN_GZIP}
)
# schema1 is accepted only so that a schema1-only image gets a clear "not supported", not a 404.
MANIFEST_ACCEPT = (
    OCI_INDEX,
    DOCKER_MANIFEST_LIST,
    OCI_MANIFEST,
    DOCKER_MANIFEST,
    DOCKER_SCHEMA1_SIGNED,
    DOCKER_SCHEMA1,
)


def is_index(media_type: str) -> bool:
    return media_type in INDEXES


def is_manifest(media_type: str) -> bool:
    return media_type in MANIFESTS


def is_config(media_type: str) -> bool:
    return media_type in CONFIGS


def is_layer(media_type: str) -> bool:
    return media_type in _LAYERS


def is_nondistributable(media_type: str) -> bool:
    """Foreign layers are not pushed (their blobs live elsewhere)."""
    return media_type in _FOREIGN


def compression(media_type: str) -> Compression:
    """How a layer's bytes are compressed; KeyError for a media type that is not a layer."""
    return _LAYERS[media_type]

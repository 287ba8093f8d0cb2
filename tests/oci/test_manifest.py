"""Manifests, indexes, media types and image configs, from bytes and back."""

import json

import pytest

from dockyard.errors import InvalidArgument, NotSupported
from dockyard.oci import mediatypes as mt
from dockyard.oci.config import ImageConfig
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.manifest import Index, Manifest, parse_manifest
from dockyard.oci.platform import PlatformMatcher, parse_platform

D1, D2, D3 = (Digest.of(x) for x in (b"1", b"2", b"3"))


def manifest_bytes(media_type=mt.DOCKER_MANIFEST, layer_type=mt.DOCKER_LAYER_GZIP, with_type=True):
    doc = {
        "schemaVersion": 2,
        "config": {"mediaType": mt.DOCKER_CONFIG, "digest": D1, "size": 10},
        "layers": [{"mediaType": layer_type, "digest": D2, "size": 20}],
    }
    if with_type:
        doc["mediaType"] = media_type
    return json.dumps(doc, indent=2).encode()


def index_entry(digest, arch, variant=None, media_type=mt.OCI_MANIFEST):
    platform = {"os": "linux", "architecture": arch} | ({"variant": variant} if variant else {})
    return {"mediaType": media_type, "digest": digest, "size": 5, "platform": platform}


def test_manifest_keeps_raw_bytes_and_digest():
    raw = manifest_bytes()
    m = parse_manifest(mt.DOCKER_MANIFEST, raw)
    assert isinstance(m, Manifest)
    assert m.digest == Digest.of(raw) and m.to_bytes() == raw
    assert m.config.digest == D1 and [layer.digest for layer in m.layers] == [D2]
    assert m.descriptor() == Descriptor(mt.DOCKER_MANIFEST, Digest.of(raw), len(raw))


def test_manifest_type_is_sniffed_when_header_is_generic():
    raw = manifest_bytes(with_type=False)
    m = parse_manifest("application/json", raw)
    assert m.media_type == mt.OCI_MANIFEST
    assert parse_manifest("", manifest_bytes()).media_type == mt.DOCKER_MANIFEST


def test_fresh_manifest_serialises_and_round_trips():
    m = Manifest(mt.OCI_MANIFEST, Descriptor(mt.OCI_CONFIG, D1, 3), (Descriptor(mt.OCI_LAYER_ZSTD, D2, 4),))
    again = parse_manifest(mt.OCI_MANIFEST, m.to_bytes())
    assert again.layers == m.layers and again.config == m.config and again.digest == m.digest


@pytest.mark.parametrize(
    "header,body",
    [
        (mt.DOCKER_SCHEMA1_SIGNED, b'{"schemaVersion": 1, "name": "x"}'),
        ("application/json", b'{"schemaVersion": 1, "fsLayers": []}'),
        (mt.DOCKER_SCHEMA1, b'{"schemaVersion": 1}'),
    ],
)
def test_schema1_is_refused_as_unsupported(header, body):
    with pytest.raises(NotSupported, match="schema 1 is not supported"):
        parse_manifest(header, body)


def test_unknown_media_type_is_unsupported():
    with pytest.raises(NotSupported, match="unsupported manifest media type: application/vnd.example"):
        parse_manifest("application/vnd.example", b'{"schemaVersion": 2}')


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[]",
        b'{"schemaVersion":2,"mediaType":"%s"}' % mt.OCI_MANIFEST.encode(),
        manifest_bytes().replace(D2.encode(), b"sha256:zz"),
    ],
)
def test_malformed_manifest_is_invalid(raw):
    with pytest.raises(InvalidArgument):
        parse_manifest(mt.OCI_MANIFEST, raw)


def test_index_selects_host_compatible_platform():
    raw = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": mt.OCI_INDEX,
            "manifests": [
                index_entry(D1, "amd64"),
                index_entry(D2, "arm", "v7"),
                index_entry(D3, "arm64", "v8"),
                {
                    "mediaType": mt.OCI_MANIFEST,
                    "digest": D3,
                    "size": 1,
                    "platform": {"os": "unknown", "architecture": "unknown"},
                },
            ],
        }
    ).encode()
    index = parse_manifest(mt.OCI_INDEX, raw)
    assert isinstance(index, Index) and len(index.manifests) == 4
    pick = lambda p: index.select(PlatformMatcher(parse_platform(p)))
    assert pick("linux/amd64").digest == D1
    assert pick("linux/arm64").digest == D3
    assert pick("linux/arm/v8").digest == D2
    assert pick("linux/arm/v6") is None
    assert pick("linux/s390x") is None


def test_docker_manifest_list_is_an_index():
    raw = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": mt.DOCKER_MANIFEST_LIST,
            "manifests": [index_entry(D1, "amd64", media_type=mt.DOCKER_MANIFEST)],
        }
    ).encode()
    index = parse_manifest(mt.DOCKER_MANIFEST_LIST, raw)
    assert isinstance(index, Index) and index.manifests[0].platform.architecture == "amd64"


def test_media_type_table():
    assert mt.compression(mt.DOCKER_LAYER_GZIP) == "gzip"
    assert mt.compression(mt.OCI_LAYER_ZSTD) == "zstd"
    assert mt.compression(mt.OCI_LAYER) == "none"
    assert mt.is_nondistributable(mt.DOCKER_LAYER_FOREIGN_GZIP)
    assert not mt.is_nondistributable(mt.OCI_LAYER_GZIP)
    assert mt.is_layer(mt.OCI_LAYER_FOREIGN_ZSTD) and not mt.is_layer(mt.OCI_CONFIG)
    assert mt.is_config(mt.DOCKER_CONFIG) and mt.is_index(mt.DOCKER_MANIFEST_LIST)


CONFIG = {
    "architecture": "amd64",
    "os": "linux",
    "created": "2024-01-01T00:00:00Z",
    "author": "me",
    "docker_version": "24.0.0",
    "config": {
        "Env": ["PATH=/bin"],
        "Cmd": ["sh"],
        "Entrypoint": None,
        "WorkingDir": "/w",
        "User": "1:1",
        "Labels": {"a": "b"},
        "ExposedPorts": {"80/tcp": {}},
        "Volumes": {"/data": {}},
        "StopSignal": "SIGQUIT",
        "Healthcheck": {"Test": ["CMD", "true"], "Interval": 1000000000, "Retries": 3},
    },
    "rootfs": {"type": "layers", "diff_ids": [D1, D2]},
    "history": [
        {"created": "2024-01-01T00:00:00Z", "created_by": "ADD x /"},
        {"created_by": 'CMD ["sh"]', "empty_layer": True},
    ],
}


def test_image_config_parses_the_fields_docker_uses():
    raw = json.dumps(CONFIG, indent=1).encode()
    config = ImageConfig.from_json(raw)
    assert config.digest == Digest.of(raw)
    assert str(config.platform) == "linux/amd64"
    c = config.config
    assert (c.env, c.cmd, c.entrypoint, c.working_dir, c.user) == (("PATH=/bin",), ("sh",), None, "/w", "1:1")
    assert c.exposed_ports == ("80/tcp",) and c.volumes == ("/data",) and c.stop_signal == "SIGQUIT"
    assert c.healthcheck.test == ("CMD", "true") and c.healthcheck.retries == 3
    assert config.diff_ids == (D1, D2)
    assert [h.empty_layer for h in config.history] == [False, True]
    assert config.extra == {"docker_version": "24.0.0"}


def test_image_config_rewrite_keeps_unknown_keys_and_drops_raw():
    config = ImageConfig.from_json(json.dumps(CONFIG).encode())
    changed = config.evolve(author="you")
    data = json.loads(changed.to_bytes())
    assert data["author"] == "you" and data["docker_version"] == "24.0.0"
    assert data["config"]["ExposedPorts"] == {"80/tcp": {}} and "Entrypoint" not in data["config"]
    assert data["rootfs"] == {"type": "layers", "diff_ids": [D1, D2]}
    assert changed.digest != config.digest
    assert ImageConfig.from_json(changed.to_bytes()).config == config.config


@pytest.mark.parametrize("raw", [b"{", b'{"rootfs": {"diff_ids": ["nope"]}}', b"[1]"])
def test_bad_image_config_is_invalid(raw):
    with pytest.raises(InvalidArgument, match="invalid image config"):
        ImageConfig.from_json(raw)


def test_artifact_fields_round_trip_and_make_the_referrer_entry():
    subject = Descriptor(mt.OCI_MANIFEST, D3, 7)
    index = Index(
        mt.OCI_INDEX, (Descriptor(mt.OCI_MANIFEST, D1, 3),), {"a": "b"}, subject=subject, artifact_type="x/sig"
    )
    again = parse_manifest(mt.OCI_INDEX, index.to_bytes())
    assert (again.subject, again.artifact_type, dict(again.annotations)) == (subject, "x/sig", {"a": "b"})
    assert again.referrer() == Descriptor(
        mt.OCI_INDEX, again.digest, len(index.to_bytes()), {"a": "b"}, artifact_type="x/sig"
    )
    image = Manifest(mt.OCI_MANIFEST, Descriptor("application/vnd.example.sbom", D1, 3), (), subject=subject)
    assert image.referrer().artifact_type == "application/vnd.example.sbom"  # the config's type when unset


def test_malformed_annotations_are_invalid_not_a_crash():
    raw = json.dumps({"schemaVersion": 2, "manifests": [], "annotations": [1]}).encode()
    with pytest.raises(InvalidArgument):
        parse_manifest(mt.OCI_INDEX, raw)

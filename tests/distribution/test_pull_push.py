"""Push hand-made images to a real docker-registry with Pusher, pull them back with pull()."""

import json
import shutil
import subprocess

import pytest

from dockyard.content.local import LocalContentStore
from dockyard.distribution import progress as p
from dockyard.distribution.client import Registries
from dockyard.distribution.config import RegistryConfig
from dockyard.distribution.credentials import DockerConfigFile
from dockyard.distribution.fetcher import Fetcher
from dockyard.distribution.pull import pull
from dockyard.distribution.pusher import Pusher
from dockyard.distribution.resolver import Resolver, next_link
from dockyard.errors import NotFound
from dockyard.oci import mediatypes as mt
from dockyard.oci.digest import Digest
from dockyard.oci.platform import parse_platform
from dockyard.oci.reference import parse_reference
from dockyard.paths import DataRoot

from .imagegen import make_image, make_index, noise
from .proxy import MisbehavingProxy


@pytest.fixture
def registries(tmp_path):
    return Registries(RegistryConfig(), DockerConfigFile(tmp_path / "docker-config.json"))


@pytest.fixture
def source(tmp_path):
    return LocalContentStore(DataRoot(tmp_path / "source"))


@pytest.fixture
def target(tmp_path):
    return LocalContentStore(DataRoot(tmp_path / "target"))


def statuses(events):
    return {(e.id, e.message) for e in events}


def test_push_then_pull_round_trip(registry, registries, source, target):
    manifest = make_image(source, [{"etc/a": b"hello"}, {"big": noise(3 << 20, "big")}])
    ref = parse_reference(f"{registry.address}/test/app:v1")
    pushed = []
    descriptor = Pusher(registries).push(ref, manifest, source, pushed.append)
    assert descriptor.digest == manifest.digest
    layer = manifest.layers[1].digest
    assert (layer.short, p.PUSHED) in statuses(pushed)

    pulled = []
    resolved = pull(registries, ref, target, progress=pulled.append)
    assert resolved.digest == manifest.digest and resolved.index is None
    assert resolved.config.diff_ids and resolved.config.config.cmd == ("sh",)
    assert sorted(target.list()) == sorted(source.list())
    assert target.path(layer).read_bytes() == source.path(layer).read_bytes()
    assert list(target.root.ingest.iterdir()) == []
    order = [e.status for e in pulled if e.digest == layer]
    assert order[0] == p.PULLING and order[-1] == p.DOWNLOAD_COMPLETE
    assert p.DOWNLOADING in order and p.VERIFYING in order
    assert [e.current for e in pulled if e.digest == layer and e.status == p.DOWNLOADING][-1] == manifest.layers[1].size


def test_second_push_finds_layers_and_second_pull_fetches_nothing(registry, registries, source, target):
    manifest = make_image(source, [{"a": b"1"}])
    ref = parse_reference(f"{registry.address}/test/again:v1")
    Pusher(registries).push(ref, manifest, source)
    again = []
    Pusher(registries).push(ref.with_tag("v2"), manifest, source, again.append)
    assert {e.status for e in again} == {p.PREPARING, p.LAYER_EXISTS}
    pull(registries, ref, target)
    events = []
    resolved = Resolver(registries).resolve(ref)
    fetched = Fetcher(registries).fetch(ref, [resolved.config_descriptor, *resolved.layers], target, events.append)
    assert fetched == [] and {e.status for e in events} == {p.ALREADY_EXISTS}


def test_pull_by_digest(registry, registries, source, target):
    manifest = make_image(source, [{"a": b"digest"}], oci=True)
    ref = parse_reference(f"{registry.address}/test/bydigest:v1")
    Pusher(registries).push(ref, manifest, source)
    by_digest = parse_reference(f"{registry.address}/test/bydigest@{manifest.digest}")
    resolved = pull(registries, by_digest, target)
    assert resolved.manifest.media_type == mt.OCI_MANIFEST and target.exists(manifest.digest)


def test_multi_platform_index_pulls_the_right_platform(registry, registries, source, tmp_path):
    amd = make_image(source, [{"arch": b"amd64"}], arch="amd64", oci=True)
    arm = make_image(source, [{"arch": b"arm64"}], arch="arm64", oci=True)
    armv7 = make_image(source, [{"arch": b"armv7"}], arch="arm", oci=True)
    index = make_index(source, {"linux/amd64": amd, "linux/arm64/v8": arm, "linux/arm/v7": armv7})
    ref = parse_reference(f"{registry.address}/test/multi:v1")
    assert Pusher(registries).push(ref, index, source).digest == index.digest
    for platform, expected in (("linux/amd64", amd), ("linux/arm64", arm), ("linux/arm/v7", armv7)):
        store = LocalContentStore(DataRoot(tmp_path / platform.replace("/", "-")))
        resolved = pull(registries, ref, store, parse_platform(platform))
        assert resolved.manifest_descriptor.digest == expected.digest
        assert resolved.index_descriptor.digest == index.digest and resolved.digest == index.digest
        assert store.exists(index.digest) and store.exists(expected.layers[0].digest)
        others = [m for m in (amd, arm, armv7) if m is not expected]
        assert not any(store.exists(m.layers[0].digest) for m in others)
    with pytest.raises(NotFound, match="no matching manifest for linux/s390x in the manifest list entries"):
        Resolver(registries).resolve(ref, parse_platform("linux/s390x"))


def test_docker_manifest_list_also_resolves(registry, registries, source, target):
    amd = make_image(source, [{"x": b"docker amd64"}])
    index = make_index(source, {"linux/amd64": amd}, oci=False)
    ref = parse_reference(f"{registry.address}/test/list:v1")
    Pusher(registries).push(ref, index, source)
    resolved = pull(registries, ref, target, parse_platform("linux/amd64"))
    assert resolved.index.media_type == mt.DOCKER_MANIFEST_LIST
    assert resolved.manifest_descriptor.digest == amd.digest


def test_single_manifest_of_another_platform_is_refused(registry, registries, source):
    arm = make_image(source, [{"x": b"only arm"}], arch="arm64")
    ref = parse_reference(f"{registry.address}/test/armonly:v1")
    Pusher(registries).push(ref, arm, source)
    with pytest.raises(
        NotFound, match="does not match the specified platform: wanted linux/amd64, actual: linux/arm64"
    ):
        Resolver(registries).resolve(ref, parse_platform("linux/amd64"))


def test_missing_manifest_is_not_found(registry, registries, target):
    ref = parse_reference(f"{registry.address}/test/nothing:v1")
    with pytest.raises(NotFound, match=f"manifest for {registry.address}/test/nothing:v1 not found: manifest unknown"):
        pull(registries, ref, target)
    assert list(target.list()) == []


def test_cross_repository_mount(registry, registries, source):
    manifest = make_image(source, [{"shared": noise(100_000, "shared")}])
    base = parse_reference(f"{registry.address}/team/base:v1")
    Pusher(registries).push(base, manifest, source)
    proxy = MisbehavingProxy(registry.address)
    try:
        derived = parse_reference(f"{proxy.address}/team/derived:v1")
        events = []
        mounts = {d.digest: "team/base" for d in (manifest.config, *manifest.layers)}
        Pusher(registries).push(derived, manifest, source, events.append, mount_from=mounts)
    finally:
        proxy.stop()
    assert {e.message for e in events} == {p.PREPARING, "Mounted from team/base"}
    assert not any(method == "PUT" and "/blobs/uploads/" in path for method, path, _ in proxy.log)
    assert any("mount=" in path for _, path, _ in proxy.log)


def test_chunked_upload_when_monolithic_put_is_refused(registry, registries, source, target):
    manifest = make_image(source, [{"blob": noise(300_000, "chunks")}])
    proxy = MisbehavingProxy(registry.address)
    try:
        proxy.fault = "no-monolithic"
        ref = parse_reference(f"{proxy.address}/test/chunked:v1")
        Pusher(registries, chunk_size=64 * 1024).push(ref, manifest, source)
    finally:
        proxy.stop()
    patches = [path for method, path, _ in proxy.log if method == "PATCH"]
    assert len(patches) >= 300_000 // (64 * 1024)
    resolved = pull(registries, parse_reference(f"{registry.address}/test/chunked:v1"), target)
    assert target.path(resolved.layers[0].digest).read_bytes() == source.path(manifest.layers[0].digest).read_bytes()


@pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo is not installed")
def test_skopeo_reads_what_we_push_and_we_read_what_skopeo_pushes(registry, registries, source, target, tmp_path):
    manifest = make_image(source, [{"a": b"for skopeo"}, {"b": noise(50_000, "sk")}], oci=True)
    ref = parse_reference(f"{registry.address}/test/skopeo:v1")
    Pusher(registries).push(ref, manifest, source)
    raw = subprocess.run(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"], check=True, capture_output=True
    ).stdout
    assert Digest.of(raw) == manifest.digest
    out = tmp_path / "skopeo-dir"
    subprocess.run(
        ["skopeo", "copy", "--src-tls-verify=false", f"docker://{ref}", f"dir:{out}"], check=True, capture_output=True
    )
    assert (out / manifest.layers[1].digest.hex).read_bytes() == source.path(manifest.layers[1].digest).read_bytes()
    copy = f"{registry.address}/test/skopeo-copy:v2"
    subprocess.run(
        [
            "skopeo",
            "copy",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            "--format",
            "v2s2",
            f"docker://{ref}",
            f"docker://{copy}",
        ],
        check=True,
        capture_output=True,
    )
    resolved = pull(registries, parse_reference(copy), target)
    assert resolved.manifest.media_type == mt.DOCKER_MANIFEST
    assert json.loads(target.read(resolved.config_descriptor.digest))["architecture"] == "amd64"


def test_tags_are_listed(registry, registries, source):
    manifest = make_image(source, [{"t": b"tags"}])
    ref = parse_reference(f"{registry.address}/test/tagged:a")
    for tag in ("a", "b", "c"):
        Pusher(registries).push(ref.with_tag(tag), manifest, source)
    assert sorted(Resolver(registries).tags(ref)) == ["a", "b", "c"]
    with pytest.raises(NotFound):
        Resolver(registries).tags(parse_reference(f"{registry.address}/test/none"))


@pytest.mark.parametrize(
    "header,expected",
    [
        ('</v2/x/tags/list?n=2&last=b>; rel="next"', "/v2/x/tags/list?n=2&last=b"),
        ("", None),
        ('<https://r/v2/x/tags/list?last=z>; rel="prev"', None),
    ],
)
def test_tag_pages_follow_the_link_header(header, expected):
    # distribution 2.8 never pages tags (v3 does), so the Link rule is checked on its own
    assert next_link(header) == expected

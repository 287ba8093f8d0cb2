"""Pull and push at the image-service level against a real docker-registry (root: overlay layers).

Images are pushed by ImagePusher (an imported busybox) or by the distribution Pusher (hand-made
multi-layer images), and pulled by Puller into a fresh data root; the misbehaving proxy of
tests/distribution stands in front of the registry for the failure cases.
"""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import threading
from pathlib import Path

import pytest

from dockyard.content.local import LocalContentStore
from dockyard.distribution import progress as p
from dockyard.distribution.client import Registries
from dockyard.distribution.config import RegistryConfig
from dockyard.distribution.credentials import Credentials, DockerConfigFile
from dockyard.distribution.pusher import Pusher
from dockyard.distribution.resolver import VerificationFailed
from dockyard.errors import InvalidArgument, NoSuchImage, Unauthorized, Unavailable
from dockyard.images.compressed import CompressedLayers
from dockyard.images.importer import import_rootfs
from dockyard.images.load import load
from dockyard.images.progress import PULL_COMPLETE
from dockyard.images.pull import Puller
from dockyard.images.push import ImagePusher
from dockyard.images.save import save
from dockyard.images.service import ImageService
from dockyard.images.store import ImageStore
from dockyard.images.unpack import LayerUnpacker
from dockyard.metadata.db import Database
from dockyard.oci import mediatypes as mt
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest, chain_id
from dockyard.oci.manifest import Manifest
from dockyard.oci.platform import parse_platform
from dockyard.oci.reference import parse_reference
from dockyard.paths import DataRoot
from dockyard.snapshots.overlay import OverlaySnapshotter
from tests.distribution.conftest import PASSWORD, USER, registry, token_registry  # noqa: F401  (fixtures)
from tests.distribution.imagegen import layer_tar, make_image, make_index, noise
from tests.distribution.proxy import MisbehavingProxy

pytestmark = pytest.mark.root
ROOTFS_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "busybox-rootfs.sh"


class Node:
    """One engine's image side: a data root, its image service, a puller and a pusher."""

    def __init__(self, base: Path, registries: Registries) -> None:
        self.root = DataRoot(base)
        self.root.create()
        self.db = Database(self.root.database)
        self.content = LocalContentStore(self.root)
        self.service = ImageService(ImageStore(self.db), self.content, OverlaySnapshotter(self.root))
        self.puller = Puller(self.service, registries)
        self.pusher = ImagePusher(self.service, registries, CompressedLayers(self.db, self.content))

    def pull(self, ref: str, platform: str | None = None, events: list | None = None):
        reference = parse_reference(ref)
        resolved = self.puller.resolve(reference, parse_platform(platform) if platform else None)
        return self.puller.pull(resolved, progress=(events.append if events is not None else p.ignore))

    def blobs(self) -> set[Digest]:
        return set(self.content.list())

    def layers(self) -> set[Digest]:
        return set(self.service.snapshots.list_layers())


@pytest.fixture
def registries(tmp_path):
    return Registries(RegistryConfig(max_concurrent_downloads=3), DockerConfigFile(tmp_path / "docker.json"))


@pytest.fixture
def node(tmp_path, registries):
    made = []

    def make(name: str) -> Node:
        made.append(Node(tmp_path / name, registries))
        return made[-1]

    yield make
    for n in made:
        n.db.close()


@pytest.fixture(scope="module")
def rootfs_tar() -> bytes:
    return subprocess.run([str(ROOTFS_SCRIPT)], check=True, capture_output=True).stdout


def push_generated(registry, registries, tmp_path, layers, name="test/gen:v1", **kw) -> Manifest:
    source = LocalContentStore(DataRoot(tmp_path / "source"))
    manifest = make_image(source, layers, **kw)
    Pusher(registries).push(parse_reference(f"{registry.address}/{name}"), manifest, source)
    return manifest


def test_imported_busybox_round_trip(registry, registries, node, rootfs_tar):
    one = node("one")
    image = import_rootfs(one.service, io.BytesIO(rootfs_tar), [], None, None)
    ref = parse_reference(f"{registry.address}/library/busybox:latest")
    one.service.store.tag(str(ref), image.id)
    events = []
    pushed = one.pusher.push(ref, progress=events.append)
    with one.service.leases.lease() as lease:
        manifest = one.pusher.distributable(one.service.store.get(image.id), lease)
    assert [layer.media_type for layer in manifest.layers] == [mt.OCI_LAYER_GZIP]
    with one.content.open(manifest.layers[0].digest) as f:
        assert gzip.decompress(f.read()) == rootfs_tar  # the gzip twin holds the very tar
    assert f"{ref.name}@{pushed.digest}" in one.service.store.get(image.id).repo_digests
    assert (manifest.layers[0].digest.short, p.PUSHED) in {(e.id, e.status) for e in events}

    again = []
    assert one.pusher.push(ref, progress=again.append).digest == pushed.digest  # reproducible, cheap
    assert {e.status for e in again if e.digest == manifest.layers[0].digest} >= {p.LAYER_EXISTS}

    two = node("two")
    pulled = two.pull(str(ref))
    assert pulled.image.id == image.id and pulled.fresh and pulled.digest == pushed.digest
    assert two.service.resolve(str(ref)).id == image.id
    assert two.service.resolve(f"{ref.name}@{pushed.digest}").id == image.id
    top = two.service.snapshots.layer(pulled.image.top_layer)
    assert top.diff_id == image.layers[0].diff_id
    assert (two.root.layers / pulled.image.top_layer.hex / "diff" / "bin" / "busybox").is_file()
    assert not two.pull(str(ref)).fresh  # a second pull: "Image is up to date"


def test_multi_layer_pull_streams_and_unpacks_every_layer(registry, registries, node, tmp_path):
    # the first two layers outgrow what a stream queues in memory (8 MiB): the rest of each is
    # extracted from the content store (tests/images/test_unpack.py has the stream on its own)
    files = [
        {"etc/a": b"A", "base": noise(12 << 20, "base")},
        {"second": noise(12 << 20, "second"), **{f"big/{i}": noise(300_000, f"{i}") for i in range(6)}},
        {"etc/a": b"replaced", "etc/.wh.gone": b""},
        {"c/d": noise(1 << 20, "d")},
    ]
    manifest = push_generated(registry, registries, tmp_path, files)
    three = node("three")
    events = []
    pulled = three.pull(f"{registry.address}/test/gen:v1", events=events)
    chains = pulled.image.chain_ids
    assert len(chains) == 4 and three.layers() == set(chains)
    top = three.root.layers / chains[2].hex / "diff"
    assert (top / "etc" / "a").read_bytes() == b"replaced"
    completes = [e.digest for e in events if e.status == PULL_COMPLETE]
    assert completes == [d.digest for d in manifest.layers]  # each layer unpacked once, bottom first
    assert list((three.root.tmp).iterdir()) == []  # nothing staged is left behind
    assert three.blobs() == {manifest.config.digest, manifest.digest, *(d.digest for d in manifest.layers)}


def test_index_pull_picks_the_platform(registry, registries, node, tmp_path):
    source = LocalContentStore(DataRoot(tmp_path / "source"))
    amd = make_image(source, [{"arch": b"amd64"}], arch="amd64", oci=True)
    arm = make_image(source, [{"arch": b"arm64"}], arch="arm64", oci=True)
    index = make_index(source, {"linux/amd64": amd, "linux/arm64/v8": arm})
    Pusher(registries).push(parse_reference(f"{registry.address}/test/multi:v1"), index, source)
    four = node("four")
    pulled = four.pull(f"{registry.address}/test/multi:v1", platform="linux/arm64")
    assert pulled.digest == index.digest
    assert pulled.image.manifest_digest == arm.digest
    assert (four.root.layers / pulled.image.top_layer.hex / "diff" / "arch").read_bytes() == b"arm64"
    assert four.service.config(pulled.image)["architecture"] == "arm64"


@pytest.fixture
def proxied(registry, registries, node, tmp_path):
    manifest = push_generated(
        registry, registries, tmp_path, [{"a": noise(400_000, "a")}, {"b": noise(600_000, "b")}, {"c": b"small"}]
    )
    proxy = MisbehavingProxy(registry.address)
    yield node("five"), proxy, f"{proxy.address}/test/gen:v1", manifest
    proxy.stop()


def assert_clean(target: Node) -> None:
    assert target.blobs() == set() and target.layers() == set()
    assert list(target.root.ingest.iterdir()) == [] and list(target.root.tmp.iterdir()) == []  # nothing staged
    assert target.service.store.all() == []


def test_corrupt_blob_leaves_nothing_and_a_later_pull_succeeds(proxied):
    target, proxy, ref, manifest = proxied
    proxy.fault, proxy.min_blob = "corrupt", 100_000
    with pytest.raises(VerificationFailed, match="filesystem layer verification failed"):
        target.pull(ref)
    assert_clean(target)
    with pytest.raises(NoSuchImage):
        target.service.resolve(ref)
    proxy.fault = ""
    assert target.pull(ref).image.manifest_digest == manifest.digest


def test_a_clean_up_that_fails_does_not_hide_the_pulls_own_error(proxied, monkeypatch):
    target, proxy, ref, _ = proxied
    proxy.fault, proxy.min_blob = "corrupt", 100_000

    def broken_removal(self, spare=()):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(LayerUnpacker, "remove_published", broken_removal)
    with pytest.raises(VerificationFailed, match="filesystem layer verification failed"):
        target.pull(ref)


def test_cut_stream_is_resumed_or_fails_cleanly(proxied, monkeypatch):
    from dockyard.distribution import fetcher

    monkeypatch.setattr(fetcher, "RETRY_DELAY", 0.01)
    target, proxy, ref, manifest = proxied
    proxy.fault, proxy.min_blob, proxy.times = "cut", 100_000, 1
    assert target.pull(ref).image.manifest_digest == manifest.digest  # resumed with Range
    other = Node(target.root.root.parent / "six", target.puller.registries)
    proxy.fault, proxy.times, proxy.min_blob = "cut", 1 << 30, 1000  # the config is spared
    with pytest.raises(Unavailable, match="after 5 attempts"):
        other.pull(ref)
    assert_clean(other)
    other.db.close()


def test_layer_not_matching_the_config_is_refused_cleanly(registry, registries, node, tmp_path):
    source = LocalContentStore(DataRoot(tmp_path / "source"))
    tar = layer_tar({"x": b"x"})
    blob = gzip.compress(tar, mtime=0)
    lie = Digest.of(b"not this layer")
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [lie]}}
    ).encode()
    manifest = Manifest(
        mt.DOCKER_MANIFEST,
        Descriptor(mt.DOCKER_CONFIG, source.write_blob(config), len(config)),
        (Descriptor(mt.DOCKER_LAYER_GZIP, source.write_blob(blob), len(blob)),),
    )
    Pusher(registries).push(parse_reference(f"{registry.address}/test/liar:v1"), manifest, source)
    target = node("seven")
    with pytest.raises(InvalidArgument, match="the image config expects"):
        target.pull(f"{registry.address}/test/liar:v1")
    assert_clean(target)


def test_a_failed_pull_spares_what_a_load_recorded_meanwhile(registry, registries, node, tmp_path, monkeypatch):
    # A pull's pins keep other pulls away, not a load: a load of the same image that records it
    # after the pull published its layers (and the config) keeps them when the pull then fails.
    push_generated(registry, registries, tmp_path, [{"base": noise(200_000, "shared")}, {"top": b"t"}])
    ref = f"{registry.address}/test/gen:v1"
    saver = node("saver")
    image = saver.pull(ref).image
    archive = b"".join(save(saver.service, [(image, [])], saver.root.tmp))
    target = node("target")
    finish = LayerUnpacker.finish

    def finish_then_load_then_fail(self):
        finish(self)
        assert [loaded.image_id for loaded in load(target.service, io.BytesIO(archive), target.root.tmp)] == [image.id]
        raise Unavailable("the connection broke")

    monkeypatch.setattr(LayerUnpacker, "finish", finish_then_load_then_fail)
    with pytest.raises(Unavailable, match="the connection broke"):
        target.pull(ref)
    loaded = target.service.store.get(image.id)
    assert all(target.service.snapshots.has_layer(chain) for chain in loaded.chain_ids)
    blobs = (loaded.id, loaded.manifest_digest, *(layer.digest for layer in loaded.layers))
    assert all(target.content.exists(digest) for digest in blobs)
    assert target.layers() == set(loaded.chain_ids) and target.blobs() == set(blobs)  # the pull's own went


def prune_dangling_after_each_register(service: ImageService, monkeypatch) -> list:
    """Make an `image prune` (every image without a tag goes) land right after each register
    returns, the moment a racing prune could take the service's lock; the IDs it took."""
    register, taken = service.register, []

    def register_then_prune(*args, **kwargs):
        image = register(*args, **kwargs)
        for other in service.all():
            if not other.tags:
                taken.extend(service.remove(other.id, force=True, in_use=lambda _: None).deleted)
        return image

    monkeypatch.setattr(service, "register", register_then_prune)
    return taken


def test_a_prune_racing_a_pull_or_a_load_never_finds_the_image_nameless(
    registry, registries, node, tmp_path, monkeypatch
):
    push_generated(registry, registries, tmp_path, [{"base": noise(1000, "named")}])
    ref = f"{registry.address}/test/gen:v1"
    saver = node("saver")
    image = saver.pull(ref).image
    archive = b"".join(save(saver.service, [(image, [ref])], saver.root.tmp))
    target = node("target")
    taken = prune_dangling_after_each_register(target.service, monkeypatch)
    pulled = target.pull(ref)
    assert pulled.image.tags == (ref,) and len(pulled.image.repo_digests) == 1
    target.service.remove(ref, force=False, in_use=lambda _: None)
    loaded = list(load(target.service, io.BytesIO(archive), target.root.tmp))
    assert [(one.image_id, one.tags) for one in loaded] == [(image.id, (ref,))]
    assert target.service.resolve(ref).id == image.id and taken == []


def test_a_layer_a_load_publishes_while_the_pull_has_it_staged_leaves_no_scratch(registry, registries, node, tmp_path):
    manifest = push_generated(registry, registries, tmp_path, [{"base": noise(3 << 20, "b")}, {"top": b"t"}])
    source = LocalContentStore(DataRoot(tmp_path / "source"))
    with source.open(manifest.config.digest) as f:
        base_diff = Digest(json.loads(f.read())["rootfs"]["diff_ids"][0])
    with source.open(manifest.layers[0].digest) as f:
        base_blob = f.read()
    target = node("target")
    snapshots = target.service.snapshots
    stage, loading = snapshots.stage, []

    def stage_then_a_load_publishes_it(tar, diff_id=None):
        staged = stage(tar, diff_id)
        if diff_id == base_diff and not loading:
            loading.append(True)  # what a load of an image with this base does meanwhile
            snapshots.unpack(chain_id([base_diff]), None, io.BytesIO(base_blob), base_diff)
        return staged

    snapshots.stage = stage_then_a_load_publishes_it
    target.pull(f"{registry.address}/test/gen:v1")
    assert len(target.layers()) == 2 and list(target.root.tmp.iterdir()) == []


def test_concurrent_pulls_sharing_layers(registry, registries, node, tmp_path):
    base = {"base/file": noise(500_000, "base")}
    push_generated(registry, registries, tmp_path, [base, {"x": b"1"}], name="test/one:v1")
    push_generated(registry, registries, tmp_path, [base, {"y": b"2"}], name="test/two:v1")
    target = node("eight")
    results, errors = [], []

    def run(name: str) -> None:
        try:
            results.append(target.pull(f"{registry.address}/{name}"))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in ("test/one:v1", "test/two:v1")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(results) == 2
    assert results[0].image.chain_ids[0] == results[1].image.chain_ids[0]
    assert len(target.layers()) == 3


def test_bearer_token_registry_push_and_pull(token_registry, registries, node, rootfs_tar):
    registry, tokens = token_registry
    one = node("nine")
    image = import_rootfs(one.service, io.BytesIO(rootfs_tar), [], None, None)
    ref = parse_reference(f"{registry.address}/team/busybox:v1")
    one.service.store.tag(str(ref), image.id)
    with pytest.raises(Unauthorized):
        one.pusher.push(ref)
    credentials = Credentials(USER, PASSWORD)
    pushed = one.pusher.push(ref, credentials)
    assert any(r["user"] == USER for r in tokens.requests)
    two = node("ten")
    resolved = two.puller.resolve(ref, credentials=credentials)
    pulled = two.puller.pull(resolved, credentials)
    assert pulled.image.id == image.id and pulled.digest == pushed.digest

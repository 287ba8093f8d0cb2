"""Content garbage collection: the pure mark phase, then sweeps over a real store (root)."""

from __future__ import annotations

import io
import os
import subprocess
import threading
from pathlib import Path

import pytest

from dockyard.content.local import LocalContentStore
from dockyard.images.compressed import CompressedLayers
from dockyard.images.gc import Collector, Roots, mark
from dockyard.images.importer import import_rootfs
from dockyard.images.service import ImageService
from dockyard.images.store import ImageRecord, ImageStore, LayerRef
from dockyard.metadata.db import Database
from dockyard.oci import mediatypes as mt
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest, chain_id
from dockyard.paths import DataRoot
from dockyard.snapshots.overlay import OverlaySnapshotter

ROOTFS_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "busybox-rootfs.sh"


def d(name: str) -> Digest:
    return Digest.of(name.encode())


def image(config: str, manifest: str, layers: list[tuple[str, str]], repo_digests: tuple[str, ...] = ()) -> ImageRecord:
    refs = tuple(LayerRef(d(diff), d(blob), mt.OCI_LAYER_GZIP, 1) for diff, blob in layers)
    return ImageRecord(d(config), d(manifest), refs, 1, "", None, (), repo_digests)


# -- mark (pure) ------------------------------------------------------------------------


def test_an_image_keeps_its_config_manifest_blobs_and_chain() -> None:
    one = image("config", "manifest", [("diff1", "blob1"), ("diff2", "blob2")])
    bottom, top = chain_id([d("diff1")]), chain_id([d("diff1"), d("diff2")])
    stray = chain_id([d("other")])
    live = mark(Roots((one,)), {bottom: None, top: bottom, stray: None})
    assert live.blobs == {d("config"), d("manifest"), d("blob1"), d("blob2")}
    assert live.layers == {bottom, top}


def test_nothing_is_live_without_roots() -> None:
    assert mark(Roots(()), {chain_id([d("a")]): None}) == mark(Roots(()), {})
    assert not mark(Roots(()), {}).blobs and not mark(Roots(()), {}).layers


def test_repo_digests_keep_the_index_they_name() -> None:
    index = d("index")
    one = image("config", "manifest", [], repo_digests=(f"registry.example/a@{index}",))
    assert index in mark(Roots((one,)), {}).blobs


def test_a_twin_lives_only_while_its_source_does() -> None:
    one = image("config", "manifest", [("diff1", "plain")])
    twins = ((d("plain"), d("gzip")), (d("gone"), d("gzip-of-gone")))
    live = mark(Roots((one,), twins=twins), {})
    assert d("gzip") in live.blobs and d("gzip-of-gone") not in live.blobs


def test_held_keys_and_container_layers_keep_their_parents() -> None:
    base, mid, top = chain_id([d("1")]), chain_id([d("1"), d("2")]), chain_id([d("1"), d("2"), d("3")])
    parents = {base: None, mid: base, top: mid}
    assert mark(Roots((), layers=frozenset({mid})), parents).layers == {base, mid}
    live = mark(Roots((), held=frozenset({top, d("fetched")})), parents)
    assert live.layers >= {base, mid, top} and d("fetched") in live.blobs


def test_a_parent_cycle_on_disk_does_not_hang_the_mark() -> None:
    a, b = chain_id([d("a")]), chain_id([d("b")])
    assert mark(Roots((), layers=frozenset({a})), {a: b, b: a}).layers == {a, b}


# -- sweep (real store) -----------------------------------------------------------------


@pytest.fixture
def data_root(tmp_path) -> DataRoot:
    root = DataRoot(tmp_path / "data")
    root.create()
    return root


@pytest.fixture
def db(data_root):
    database = Database(data_root.database)
    yield database
    database.close()


@pytest.fixture
def service(data_root, db) -> ImageService:
    return ImageService(ImageStore(db), LocalContentStore(data_root), OverlaySnapshotter(data_root))


@pytest.fixture(scope="module")
def rootfs_tar() -> bytes:
    return subprocess.run([str(ROOTFS_SCRIPT)], check=True, capture_output=True).stdout


def everything(root: DataRoot) -> tuple[set[str], set[str]]:
    return {p.name for p in (root.blobs / "sha256").iterdir()}, {p.name for p in root.layers.iterdir()} - {"l"}


@pytest.mark.root
def test_rmi_then_collect_leaves_no_blob_and_no_layer(service, data_root, rootfs_tar) -> None:
    kept = import_rootfs(service, io.BytesIO(rootfs_tar), [], None, None)
    gone = import_rootfs(service, io.BytesIO(rootfs_tar + b"\0" * 1024), ['CMD ["x"]'], None, None)
    before = everything(data_root)
    service.remove(gone.id, True, lambda _: None)
    done = Collector(service).collect()
    assert done.reclaimed > 0 and set(done.blobs) >= {gone.id, gone.manifest_digest}
    blobs, layers = everything(data_root)
    assert blobs == {kept.id.hex, kept.manifest_digest.hex, kept.layers[0].digest.hex}
    assert layers == {kept.top_layer.hex} and layers < before[1]
    assert [os.readlink(link) for link in (data_root.layers / "l").iterdir()] == [f"../{kept.top_layer.hex}/diff"]


@pytest.mark.root
def test_leftovers_of_an_interrupted_pull_go_but_pinned_ones_stay(service, data_root) -> None:
    fetched = service.content.write_blob(b"half a pull")
    pinned = service.content.write_blob(b"a pull in flight")
    stale_ingest = data_root.ingest / "stale"
    stale_ingest.write_bytes(b"partial")
    with service.content.writer() as open_writer:
        open_writer.write(b"still downloading")
        with service.pins.hold([pinned]):
            done = Collector(service).collect()
        assert open_writer.path.exists()  # a writer in flight keeps its ingest
    assert done.blobs == [fetched] and service.content.exists(pinned)
    assert not stale_ingest.exists()
    assert Collector(service).collect().blobs == [pinned]


@pytest.mark.root
def test_a_leased_blob_survives_until_its_lease_ends(service) -> None:
    with service.leases.lease() as lease:
        with lease.writer(service.content) as writer:
            writer.write(b"a layer being loaded")
            digest = writer.commit()
        assert Collector(service).collect().blobs == []
    assert Collector(service).collect().blobs == [digest]


@pytest.mark.root
def test_a_lease_racing_the_collector_never_loses_its_blob(service) -> None:
    """Blobs written under a lease while collections run are all there when the lease ends."""
    stop, errors = threading.Event(), []

    def collect_forever() -> None:
        while not stop.is_set():
            try:
                Collector(service).collect()
            except Exception as exc:  # reported below
                errors.append(exc)

    sweeper = threading.Thread(target=collect_forever)
    sweeper.start()
    try:
        for round_ in range(30):
            with service.leases.lease() as lease:
                written = []
                for n in range(5):
                    with lease.writer(service.content) as writer:
                        writer.write(f"{round_}-{n}".encode())
                        written.append(writer.commit())
                assert all(service.content.exists(digest) for digest in written)
    finally:
        stop.set()
        sweeper.join()
    assert errors == []


@pytest.mark.root
def test_the_gzip_twin_of_a_live_layer_stays(service, db, rootfs_tar) -> None:
    compressed = CompressedLayers(db, service.content)
    kept = import_rootfs(service, io.BytesIO(rootfs_tar), [], None, None)
    with service.leases.lease() as lease:
        twin = compressed.distributable(Descriptor(mt.OCI_LAYER, kept.layers[0].digest, kept.layers[0].size), lease)
        assert Collector(service, compressed).collect().blobs == []  # held while the push runs
    orphan = service.content.write_blob(b"a gzip twin of nothing")
    assert Collector(service, compressed).collect().blobs == [orphan]
    assert service.content.exists(twin.digest)


@pytest.mark.root
def test_at_start_tmp_and_unrecorded_layers_go(service, data_root, rootfs_tar) -> None:
    image = import_rootfs(service, io.BytesIO(rootfs_tar), [], None, None)
    service.store.delete(image.id)  # as if the daemon died between unpack and record
    (data_root.tmp / "load-spool").write_bytes(b"x")
    (data_root.tmp / "build-123").mkdir()
    done = Collector(service, tmp=data_root.tmp).collect(at_start=True)
    assert done.layers == [image.top_layer]
    assert everything(data_root) == (set(), set()) and list(data_root.tmp.iterdir()) == []

"""LayerUnpacker on the overlay snapshotter: layers extract as they download, never holding the
download up, and a failed publication."""

from __future__ import annotations

import errno
import io
import threading
import time
from pathlib import Path

import pytest

from dockyard.content.local import LocalContentStore
from dockyard.errors import InvalidArgument
from dockyard.images import unpack
from dockyard.images.progress import EXTRACTING
from dockyard.images.unpack import LayerUnpacker, plan_layers
from dockyard.oci import mediatypes as mt
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.paths import DataRoot
from dockyard.snapshots import overlay
from dockyard.snapshots.overlay import OverlaySnapshotter
from tests.distribution.imagegen import layer_tar, noise
from tests.polling import eventually

pytestmark = pytest.mark.root


def planned(*tars: bytes) -> list:
    descriptors = tuple(Descriptor(mt.OCI_LAYER, Digest.of(tar), len(tar)) for tar in tars)
    return plan_layers(descriptors, tuple(Digest.of(tar) for tar in tars))


def downloaded(content: LocalContentStore, tar: bytes) -> None:
    """What the fetcher does before it closes a sink: the blob is in the content store."""
    with content.writer(Digest.of(tar), len(tar)) as writer:
        writer.write(tar)
        writer.commit()


def feed(sink, tar: bytes, start: int = 0, end: int | None = None) -> None:
    for offset in range(start, len(tar) if end is None else end, 1 << 20):
        sink.write(memoryview(tar)[offset : min(offset + (1 << 20), len(tar) if end is None else end)])


def download_all(unpacker: LayerUnpacker, content: LocalContentStore, layers: list, tars: list[bytes]) -> None:
    """What the fetcher does for every layer: stream it into its sink, publish it, close the sink."""
    for layer, tar in zip(layers, tars, strict=True):
        sink = unpacker.sink(layer.descriptor)
        feed(sink, tar)
        downloaded(content, tar)
        sink.close()


def hold_up_staging(snapshots: OverlaySnapshotter) -> threading.Event:
    """Make every stage() wait, before it reads a byte, until the event returned is set."""
    stage, release = snapshots.stage, threading.Event()

    def held_up_stage(tar, diff_id=None):
        release.wait()
        return stage(tar, diff_id)

    snapshots.stage = held_up_stage  # type: ignore[method-assign]
    return release


def test_a_layer_extracts_from_its_first_bytes(tmp_path: Path) -> None:
    root = DataRoot(tmp_path / "data")
    content = LocalContentStore(root)
    tar = layer_tar({"big": noise(3 << 20, "big")})
    layers, events = planned(tar), []
    unpacker = LayerUnpacker(OverlaySnapshotter(root), content, layers, events.append)
    sink = unpacker.sink(layers[0].descriptor)
    feed(sink, tar, end=2 << 20)
    eventually(
        lambda: any(e.status == EXTRACTING for e in events),
        timeout=10,
        what="nothing extracted before the rest arrived",
    )
    feed(sink, tar, start=2 << 20)
    downloaded(content, tar)
    sink.close()
    unpacker.finish()
    assert (root.layers / layers[0].chain_id.hex / "diff" / "big").read_bytes() == noise(3 << 20, "big")


def test_an_extracting_layer_queues_up_to_the_larger_bound(tmp_path: Path) -> None:
    # once the extraction has read, a stream keeps queueing past SPILL_WAITING (it streams on)
    root = DataRoot(tmp_path / "data")
    content, snapshots = LocalContentStore(root), OverlaySnapshotter(root)
    data = noise(unpack.SPILL_WAITING + (4 << 20), "big")
    tar = layer_tar({"big": data})
    layers = planned(tar)
    stage, first_read, resume = snapshots.stage, threading.Event(), threading.Event()

    class PausedAfterTheFirstRead:
        def __init__(self, tar) -> None:
            self.tar = tar

        def read(self, size: int = -1) -> bytes:
            chunk = self.tar.read(size)
            if not first_read.is_set():
                first_read.set()
                resume.wait()
            return chunk

    snapshots.stage = lambda tar, diff_id=None: stage(PausedAfterTheFirstRead(tar), diff_id)  # type: ignore[method-assign]
    unpacker = LayerUnpacker(snapshots, content, layers)
    sink = unpacker.sink(layers[0].descriptor)
    feed(sink, tar, end=1 << 20)
    eventually(first_read.is_set, timeout=10, what="the extraction did not read")
    feed(sink, tar, start=1 << 20, end=unpack.SPILL_WAITING + (3 << 20))
    streamed_on = not sink._spilled and sink._queued > unpack.SPILL_WAITING
    resume.set()
    feed(sink, tar, start=unpack.SPILL_WAITING + (3 << 20))
    downloaded(content, tar)
    sink.close()
    unpacker.finish()
    assert streamed_on
    assert (root.layers / layers[0].chain_id.hex / "diff" / "big").read_bytes() == data


def test_an_extraction_held_up_never_holds_up_the_download(tmp_path: Path) -> None:
    # more than a stream queues in memory: the rest is read from the content store once it landed
    root = DataRoot(tmp_path / "data")
    content, snapshots = LocalContentStore(root), OverlaySnapshotter(root)
    data = noise(unpack.SPILL_AFTER * 2 + 12345, "big")
    tar = layer_tar({"big": data})
    layers = planned(tar)
    release = hold_up_staging(snapshots)
    unpacker = LayerUnpacker(snapshots, content, layers)
    sink = unpacker.sink(layers[0].descriptor)

    def download() -> None:
        feed(sink, tar)
        downloaded(content, tar)
        sink.close()

    downloading = threading.Thread(target=download)
    downloading.start()
    downloading.join(timeout=10)
    alive = downloading.is_alive()
    release.set()
    downloading.join()
    assert not alive, "the download waited for the extraction"
    unpacker.finish()
    assert (root.layers / layers[0].chain_id.hex / "diff" / "big").read_bytes() == data
    assert list(root.tmp.iterdir()) == []


def test_an_extraction_failing_after_its_stream_spilled_leaves_no_blob_open(tmp_path: Path) -> None:
    # the hostile entry fails the extraction while its read-ahead opens the landed blob (slowly)
    root = DataRoot(tmp_path / "data")
    content = LocalContentStore(root)
    tar = layer_tar({"a": noise(unpack.SPILL_AFTER - (1 << 20), "a"), "b/../../evil": b"x", "c": noise(4 << 20, "c")})
    layers = planned(tar)
    opened, store_open = [], content.open

    def slow_open(digest):
        time.sleep(0.3)
        opened.append(store_open(digest))
        return opened[-1]

    content.open = slow_open  # type: ignore[method-assign]
    unpacker = LayerUnpacker(OverlaySnapshotter(root), content, layers)
    sink = unpacker.sink(layers[0].descriptor)
    downloaded(content, tar)
    feed(sink, tar)
    sink.close()
    with pytest.raises(InvalidArgument):
        unpacker.finish()
    unpacker.stop()  # joined every stream: a blob its read-ahead opened is closed by now
    assert opened and all(blob.closed for blob in opened)


def test_layers_waiting_for_a_stager_keep_little_in_memory(tmp_path: Path) -> None:
    # every download has landed while no extraction has started: each queued SPILL_WAITING at most
    root = DataRoot(tmp_path / "data")
    content, snapshots = LocalContentStore(root), OverlaySnapshotter(root)
    files = [noise(unpack.SPILL_WAITING + (1 << 20), str(i)) for i in range(unpack.STAGERS + 2)]
    tars = [layer_tar({"big": data}) for data in files]
    layers = planned(*tars)
    release = hold_up_staging(snapshots)
    unpacker = LayerUnpacker(snapshots, content, layers)
    download_all(unpacker, content, layers, tars)
    queued = sum(stream._queued for stream in unpacker._started)
    release.set()
    unpacker.finish()
    assert queued <= len(tars) * unpack.SPILL_WAITING
    for layer, data in zip(layers, files, strict=True):
        assert (root.layers / layer.chain_id.hex / "diff" / "big").read_bytes() == data


def test_no_more_than_the_stagers_extract_at_once(tmp_path: Path) -> None:
    root = DataRoot(tmp_path / "data")
    content, snapshots = LocalContentStore(root), OverlaySnapshotter(root)
    tars = [layer_tar({f"f{i}": noise(1000, str(i))}) for i in range(unpack.STAGERS + 2)]
    layers = planned(*tars)
    stage, release, lock = snapshots.stage, threading.Event(), threading.Lock()
    active = [0]

    def counted_stage(tar, diff_id=None):
        with lock:
            active[0] += 1
        release.wait()
        try:
            return stage(tar, diff_id)
        finally:
            with lock:
                active[0] -= 1

    snapshots.stage = counted_stage  # type: ignore[method-assign]
    unpacker = LayerUnpacker(snapshots, content, layers)
    download_all(unpacker, content, layers, tars)
    eventually(lambda: active[0] == unpack.STAGERS, timeout=10, what="the stagers did not start")
    time.sleep(0.2)
    assert active[0] == unpack.STAGERS
    release.set()
    unpacker.finish()
    assert set(snapshots.list_layers()) == {layer.chain_id for layer in layers}


def test_a_failed_publication_is_not_tried_again_on_a_used_up_layer(tmp_path: Path, monkeypatch) -> None:
    root = DataRoot(tmp_path / "data")
    snapshots = OverlaySnapshotter(root)
    tars = [layer_tar({f"f{i}": b"x" * 100}) for i in range(3)]
    layers = planned(*tars)
    durable, calls = overlay.make_durable, []

    def no_space_for_the_second(path: Path, size: int) -> None:
        calls.append(path)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        durable(path, size)

    monkeypatch.setattr(overlay, "make_durable", no_space_for_the_second)
    unpacker = LayerUnpacker(snapshots, LocalContentStore(root), layers)
    # what each stream's thread runs once its layer is whole, here one after another
    unpacker._stage(layers[0], io.BytesIO(tars[0]))
    with pytest.raises(OSError, match="No space left on device"):
        unpacker._stage(layers[1], io.BytesIO(tars[1]))
    unpacker._stage(layers[2], io.BytesIO(tars[2]))  # publishes nothing more (it tried layer 1 again)
    with pytest.raises(OSError, match="No space left on device"):
        unpacker.finish()  # the first failure is the pull's error
    unpacker.stop()
    unpacker.remove_published()
    assert snapshots.list_layers() == [] and list(root.tmp.iterdir()) == []

"""Unpack a pulled image's layers into the snapshotter, extracting them while they download.

`LayerUnpacker.sink` is the Fetcher's sink factory: every layer not yet unpacked streams into
`Snapshotter.stage` as its bytes arrive, on a thread of its own (and one reading ahead for it).
A stream never holds its download up: what the extraction has not taken yet waits in memory,
up to SPILL_AFTER bytes (SPILL_WAITING before the extraction has started: it may wait for a
stager), and past that the extraction reads the rest from the content store once the blob has
landed there. Staging needs no parent, so layers extract side by side, at most STAGERS at once
(one per CPU, each with a thread decompressing ahead of it), while the other downloads run at
the network's pace. Publication is bottom first: whichever thread stages a layer publishes it
and every staged layer above it whose parent is now published, so a layer's durability barrier
overlaps the extraction of the layers still arriving. Layers that did not stream are staged
from the content store by `finish()`. A layer is published under its chain ID only once its
diff_id checks (the snapshotter's contract). After a failure, `stop()` discards what is staged
and `remove_published()` removes the layers this unpacker published that nothing else took up.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import BinaryIO

from dockyard import faults
from dockyard.content.store import ContentStore
from dockyard.distribution import progress as p
from dockyard.distribution.fetcher import BlobSink, Cancelled
from dockyard.errors import Conflict, InvalidArgument, NotFound
from dockyard.images.progress import EXTRACTING, PULL_COMPLETE
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest, chain_id
from dockyard.snapshots.snapshotter import DiffIdMismatch, Snapshotter, StagedLayer

SPILL_AFTER = 8 << 20  # bytes a stream queues in memory before its unpack reads the content store
SPILL_WAITING = 2 << 20  # the same for a stream whose unpack has not read yet (it waits for a stager)
STAGERS = max(2, len(os.sched_getaffinity(0)))  # layers extracting at once: one per CPU (0051)
REPORT_EVERY = 1 << 20


@dataclass(frozen=True, slots=True)
class PlannedLayer:
    """One layer of the image being pulled: its blob, diff_id, chain ID and parent's chain ID."""

    descriptor: Descriptor
    diff_id: Digest
    chain_id: Digest
    parent: Digest | None


def plan_layers(layers: tuple[Descriptor, ...], diff_ids: tuple[Digest, ...]) -> list[PlannedLayer]:
    """Pair the manifest's layers with the config's diff_ids. Raises InvalidArgument on a mismatch."""
    if len(layers) != len(diff_ids):
        raise InvalidArgument(f"image config lists {len(diff_ids)} layers but the manifest has {len(layers)}")
    planned, parent = [], None
    for i, (descriptor, diff_id) in enumerate(zip(layers, diff_ids, strict=False)):
        chain = chain_id(list(diff_ids[: i + 1]))
        planned.append(PlannedLayer(descriptor, diff_id, chain, parent))
        parent = chain
    return planned


class LayerUnpacker:
    """Brings every planned layer into the snapshotter, once, checking each diff_id."""

    def __init__(
        self,
        snapshots: Snapshotter,
        content: ContentStore,
        layers: list[PlannedLayer],
        progress: p.ProgressCallback = p.ignore,
    ) -> None:
        self.snapshots = snapshots
        self.content = content
        self.layers = layers
        self.progress = progress
        self.created: list[Digest] = []
        self._streams: dict[Digest, _Stream] = {}
        self._started: list[_Stream] = []  # every stream, those a retried download replaced too
        self._staged: dict[Digest, StagedLayer] = {}
        self._lock = threading.Lock()  # _streams, _started, _staged, created, _failure
        self._publishing = threading.Lock()  # one publisher at a time, bottom first
        self._stopped = threading.Event()
        self._failure: BaseException | None = None  # the first publication that failed
        self._stagers = threading.Semaphore(STAGERS)

    def sink(self, descriptor: Descriptor) -> BlobSink | None:
        """A sink that stages this blob as it downloads, or None when its layer needs no unpacking."""
        layer = next((lay for lay in self.layers if lay.descriptor.digest == descriptor.digest), None)
        if layer is None or self.snapshots.has_layer(layer.chain_id):
            return None
        stream = _Stream(descriptor, self.content, self.progress, lambda reader: self._stage(layer, reader))
        with self._lock:
            self._streams[layer.chain_id] = stream
            self._started.append(stream)
        return stream

    def finish(self) -> None:
        """Wait for streamed layers, stage the rest from the content store, publish every one.

        Raises:
            InvalidArgument: a layer is not a valid tar, or its diff_id is not the config's.
        """
        for layer in self.layers:
            stream = self._streams.get(layer.chain_id)
            error = stream.wait() if stream else None
            if self._failure is not None:
                raise self._failure  # whichever stream's thread ran into it
            if error is not None and not isinstance(error, Cancelled):
                raise error
            with self._lock:
                staged = layer.chain_id in self._staged
            if not staged and not self.snapshots.has_layer(layer.chain_id):
                with self.content.open(layer.descriptor.digest) as blob:
                    self._stage(layer, _Counting(blob, layer.descriptor, self.progress))
        self._publish_ready()

    def _stage(self, layer: PlannedLayer, tar: BinaryIO) -> None:
        try:
            with self._stagers:
                staged = self.snapshots.stage(tar, layer.diff_id)
        except DiffIdMismatch as exc:
            raise InvalidArgument(
                f"failed to register layer: layer {layer.descriptor.digest} has diff_id "
                f"{exc.actual}, the image config expects {layer.diff_id}"
            ) from None
        with self._lock:
            previous = self._staged.pop(layer.chain_id, None)
            self._staged[layer.chain_id] = staged
        if previous is not None:  # a download retried after its stage had read the whole layer
            self.snapshots.discard(previous)
        self._publish_ready()

    def _publish_ready(self) -> None:
        """Publish, bottom first, each staged layer whose parent is published (none once stopped)."""
        with self._publishing:
            for layer in self.layers:
                if self._stopped.is_set() or self._failure is not None:
                    return
                with self._lock:
                    staged = self._staged.get(layer.chain_id)
                if self.snapshots.has_layer(layer.chain_id):
                    if staged is not None:  # a load, import or commit published it meanwhile
                        with self._lock:
                            del self._staged[layer.chain_id]
                        self.snapshots.discard(staged)
                        self.progress(p.Progress(layer.descriptor.digest, PULL_COMPLETE))
                    continue
                if staged is None:
                    return  # the layers above wait for this one
                try:
                    self.snapshots.publish(staged, layer.chain_id, layer.parent)
                except NotFound:
                    raise  # the staged layer is kept (the contract): stop() discards it
                except BaseException as exc:  # the staged layer is used up
                    with self._lock:
                        del self._staged[layer.chain_id]
                        self._failure = exc
                    self.snapshots.discard(staged)
                    raise
                with self._lock:
                    del self._staged[layer.chain_id]
                    self.created.append(layer.chain_id)
                faults.point("pull.after-layer")
                self.progress(p.Progress(layer.descriptor.digest, PULL_COMPLETE))

    def stop(self) -> None:
        """Stop the streaming layers and discard what is staged (the pull failed)."""
        self._stopped.set()
        with self._lock:
            streams = list(self._started)
        for stream in streams:
            stream.abort()
            stream.wait()
        with self._publishing, self._lock:
            for staged in self._staged.values():
                self.snapshots.discard(staged)
            self._staged.clear()

    def remove_published(self, spare: Collection[Digest] = ()) -> None:
        """Remove every layer this unpacker published, top first, but those in `spare` (an
        image recorded meanwhile, e.g. by a load, uses them). Call after stop()."""
        for chain in reversed(self.created):
            if chain in spare:
                continue
            try:
                self.snapshots.remove_layer(chain)
            except Conflict:
                pass  # something else was built on it meanwhile: it is not ours alone
        self.created.clear()


class _Counting:
    """A blob reader that reports `Extracting` progress as the unpacker consumes it."""

    def __init__(self, blob: BinaryIO, descriptor: Descriptor, progress: p.ProgressCallback) -> None:
        self.blob, self.descriptor, self.progress = blob, descriptor, progress
        self.offset = self.reported = 0

    def read(self, size: int = -1) -> bytes:
        data = self.blob.read(size)
        self.offset += len(data)
        if self.offset - self.reported >= REPORT_EVERY or (data == b"" and self.offset != self.reported):
            self.reported = self.offset
            self.progress(p.Progress(self.descriptor.digest, EXTRACTING, self.offset, self.descriptor.size))
        return data


class _Stream:
    """A BlobSink whose bytes a thread of its own unpacks, without ever holding the download up.

    The bytes queue in memory while the unpack keeps up. Once more than SPILL_AFTER bytes wait
    (SPILL_WAITING before the unpack's first read), the stream stops queueing: the unpack reads
    what is queued, then the rest from the content store once the blob has landed there
    (close()), from the page cache the download just filled.
    """

    def __init__(
        self,
        descriptor: Descriptor,
        content: ContentStore,
        progress: p.ProgressCallback,
        unpack: Callable[[BinaryIO], None],
    ) -> None:
        self.descriptor = descriptor
        self.content = content
        self.error: BaseException | None = None
        self._chunks: deque[memoryview] = deque()
        self._queued = 0
        self._spilled = False  # bytes after the queued ones are read from the content store
        self._landed = False  # close(): the whole blob is in the content store
        self._aborted = False
        self._landed_blob: BinaryIO | None = None
        self._offset = 0  # bytes handed to the unpack from memory
        self._reading = False  # the unpack has asked for bytes: its extraction runs
        self._ready = threading.Condition()
        self._done = threading.Event()
        self._reader = _Counting(self, descriptor, progress)
        self._thread = threading.Thread(target=self._run, args=(unpack,), name="unpack", daemon=True)
        self._thread.start()

    def _run(self, unpack: Callable[[BinaryIO], None]) -> None:
        try:
            unpack(self._reader)  # type: ignore[arg-type]
        except BaseException as exc:  # kept for write() and wait()
            self.error = exc
        finally:
            with self._ready:  # read() opens the landed blob under this lock: none is left open
                self._done.set()
                if self._landed_blob is not None:
                    self._landed_blob.close()
                self._chunks.clear()
                self._queued = 0
                self._ready.notify_all()  # a read-ahead thread waiting for bytes stops

    # -- the download's side (BlobSink) ---------------------------------------------------

    def write(self, data: memoryview) -> None:
        if self.error is not None:
            raise self.error
        with self._ready:
            if self._spilled or self._done.is_set():  # nobody reads these bytes from memory
                return
            if self._queued + len(data) > (SPILL_AFTER if self._reading else SPILL_WAITING):
                self._spilled = True
                return
            self._chunks.append(memoryview(bytes(data)))  # the fetcher reuses its buffer
            self._queued += len(data)
            self._ready.notify_all()

    def close(self) -> None:
        with self._ready:
            self._landed = True
            self._ready.notify_all()

    def abort(self) -> None:
        with self._ready:
            self._aborted = True  # read() stops at once, even with the rest of the blob queued
            self._chunks.clear()
            self._queued = 0
            self._ready.notify_all()

    def wait(self) -> BaseException | None:
        self._thread.join()
        return self.error

    # -- the unpacker's side (a file object) ----------------------------------------------

    def read(self, size: int = -1) -> bytes:
        with self._ready:
            self._reading = True
            while True:
                if self._aborted:
                    raise Cancelled(f"unpacking {self.descriptor.digest} stopped: its download failed")
                if self._chunks:
                    return self._take(size)
                if self._done.is_set():  # a read-ahead thread reading on after the unpack stopped
                    raise Cancelled(f"unpacking {self.descriptor.digest} stopped")
                if self._landed and not self._spilled:
                    return b""
                if self._landed:
                    break
                self._ready.wait()
            if self._landed_blob is None:
                self._landed_blob = self.content.open(self.descriptor.digest)
                self._landed_blob.seek(self._offset)
            blob = self._landed_blob
        return blob.read(size)

    def _take(self, size: int) -> bytes:
        chunk = self._chunks[0]
        size = len(chunk) if size < 0 else min(size, len(chunk))
        if size == len(chunk):
            self._chunks.popleft()
        else:
            self._chunks[0] = chunk[size:]
        self._queued -= size
        self._offset += size
        return bytes(chunk[:size])

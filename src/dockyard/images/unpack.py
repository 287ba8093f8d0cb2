"""Unpack a pulled image's layers into the snapshotter, extracting them while they download.

`LayerUnpacker.sink` is the Fetcher's sink factory: every layer not yet unpacked streams into
`Snapshotter.stage` as its bytes arrive (a thread per layer, and one reading ahead for it, fed
through a bounded queue, so the download runs at the extractor's pace and the blob is read
once). Staging needs no parent, so the layers extract side by side, as many as download at
once. Publication is bottom first: whichever thread stages a layer publishes it and every
staged layer above it whose parent is now published, so a layer's durability barrier
overlaps the extraction of the layers still arriving. Layers that did not stream are staged
from the content store by `finish()`. A layer is published under its chain ID only once its
diff_id checks (the snapshotter's contract). After a failure, `stop()` discards what is staged
and `remove_published()` removes the layers this unpacker published that nothing else took up.
"""

from __future__ import annotations

import queue
import threading
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

QUEUE_CHUNKS = 8
REPORT_EVERY = 1 << 20
_EOF, _ABORT = object(), object()


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

    def sink(self, descriptor: Descriptor) -> BlobSink | None:
        """A sink that stages this blob as it downloads, or None when its layer needs no unpacking."""
        layer = next((lay for lay in self.layers if lay.descriptor.digest == descriptor.digest), None)
        if layer is None or self.snapshots.has_layer(layer.chain_id):
            return None
        stream = _Stream(descriptor, self.progress, lambda reader: self._stage(layer, reader))
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
    """A BlobSink whose bytes a thread of its own unpacks as they arrive."""

    def __init__(
        self, descriptor: Descriptor, progress: p.ProgressCallback, unpack: Callable[[BinaryIO], None]
    ) -> None:
        self.descriptor = descriptor
        self.error: BaseException | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUE_CHUNKS)
        self._pending = memoryview(b"")
        self._done = threading.Event()
        self._aborted = threading.Event()
        self._reader = _Counting(self, descriptor, progress)
        self._thread = threading.Thread(target=self._run, args=(unpack,), name="unpack", daemon=True)
        self._thread.start()

    def _run(self, unpack: Callable[[BinaryIO], None]) -> None:
        try:
            unpack(self._reader)  # type: ignore[arg-type]
        except BaseException as exc:  # kept for write() and wait()
            self.error = exc
        finally:
            self._done.set()

    # -- the download's side (BlobSink) ---------------------------------------------------

    def write(self, data: memoryview) -> None:
        self._put(bytes(data))  # the fetcher reuses its buffer
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        self._put(_EOF)

    def abort(self) -> None:
        self._aborted.set()  # read() stops at once, even with the rest of the blob queued
        self._put(_ABORT)

    def _put(self, item: object) -> None:
        while not self._done.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def wait(self) -> BaseException | None:
        self._thread.join()
        return self.error

    # -- the unpacker's side (a file object) ----------------------------------------------

    def _next(self) -> object:
        """The next item; _ABORT once the unpack has ended (a read-ahead thread that reads on
        after an unpack stopped early must not wait for bytes the download no longer sends)."""
        while True:
            try:
                return self._queue.get(timeout=0.1)
            except queue.Empty:
                if self._done.is_set():
                    return _ABORT

    def read(self, size: int = -1) -> bytes:
        if self._aborted.is_set():
            raise Cancelled(f"unpacking {self.descriptor.digest} stopped: its download failed")
        if not self._pending:
            item = self._next()
            if item is _EOF:
                self._queue.put(_EOF)  # later reads see EOF again
                return b""
            if item is _ABORT:
                raise Cancelled(f"unpacking {self.descriptor.digest} stopped: its download failed")
            self._pending = memoryview(item)
        size = len(self._pending) if size < 0 else size
        out, self._pending = self._pending[:size], self._pending[size:]
        return bytes(out)

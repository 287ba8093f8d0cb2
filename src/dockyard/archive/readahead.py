"""Read ahead: run a chunk iterator in a thread of its own, so that its work (decompressing
and hashing, C code that lets go of the GIL) overlaps the consumer's (parsing a tar, writing
files) on a second core.

    for chunk in read_ahead(chunks): ...

At most `depth` chunks wait between the two. The producer's exception is raised in the
consumer where the next chunk would have been; a consumer that stops early (an error, a
closed generator) stops the producer at its next chunk.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass

_END = object()
_POLL = 0.1  # seconds a blocked producer waits before it looks whether the consumer left


@dataclass(frozen=True, slots=True)
class _Failure:
    error: BaseException


def read_ahead(chunks: Iterator[bytes], depth: int = 4) -> Generator[bytes, None, None]:
    """The chunks of `chunks`, in order, produced by a thread of their own."""
    handoff: queue.Queue[object] = queue.Queue(depth)
    left = threading.Event()

    def put(item: object) -> bool:
        while not left.is_set():
            try:
                handoff.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for chunk in chunks:
                if not put(chunk):
                    return
            put(_END)
        except BaseException as exc:  # handed to the consumer, raised there
            put(_Failure(exc))

    threading.Thread(target=produce, name="read-ahead", daemon=True).start()
    try:
        while (item := handoff.get()) is not _END:
            if isinstance(item, _Failure):
                raise item.error
            yield item  # type: ignore[misc]  # only bytes are put besides the markers
    finally:
        left.set()

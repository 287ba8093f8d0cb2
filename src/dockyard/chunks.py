"""Turn a function that writes a stream into an iterator of chunks, with bounded memory."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from typing import BinaryIO

CHUNK = 1 << 20


def produced(write: Callable[[BinaryIO], None], name: str) -> Iterator[bytes]:
    """Run `write(out)` in a thread, yielding what it writes; re-raise its failure at the end."""
    read_fd, write_fd = os.pipe()
    failure: list[BaseException] = []

    def produce() -> None:
        try:
            with os.fdopen(write_fd, "wb", buffering=CHUNK) as out:
                write(out)
        except BaseException as exc:  # handed to the reader below
            failure.append(exc)

    writer = threading.Thread(target=produce, name=name, daemon=True)
    writer.start()
    try:
        with os.fdopen(read_fd, "rb", buffering=0) as pipe:
            while chunk := pipe.read(CHUNK):
                yield chunk
    finally:
        writer.join()
    if failure:
        raise failure[0]

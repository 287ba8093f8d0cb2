"""Signals acted on by a thread of their own (as Go's signal.Notify does), not by Python handlers.

CPython runs a Python signal handler only between bytecodes of the main thread. A signal that
arrives just before the main thread blocks in a read (an attach stream, a wait) is acted on
only once that read returns: a Ctrl-C forwarded to a container that waits for it would wait
for output the container never writes. The interpreter's C-level handler also writes the
signal's number to the wakeup fd, whatever the main thread is doing; a daemon thread reading
that pipe calls the callbacks.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable

_callbacks: dict[int, Callable[[int], None]] = {}
_watching = False


def watch(signums: Iterable[int], callback: Callable[[int], None]) -> None:
    """Call callback(signum) on the watcher thread for each of `signums` received from now on.
    From the main thread (it installs the handlers and the wakeup fd)."""
    global _watching
    if threading.current_thread() is not threading.main_thread():
        raise ValueError("signals are watched from the main thread")
    if not _watching:
        reader, writer = os.pipe2(os.O_CLOEXEC)
        os.set_blocking(writer, False)  # the C-level handler must never block
        signal.set_wakeup_fd(writer, warn_on_full_buffer=False)
        threading.Thread(target=_deliver, args=(reader,), name="signals", daemon=True).start()
        _watching = True
    for signum in signums:
        _callbacks[signum] = callback
        signal.signal(signum, _noted)


def _noted(signum: int, frame: object) -> None:
    """The Python-level handler: nothing to do, the watcher thread acts on the signal."""


def _deliver(reader: int) -> None:
    """Run the callbacks; one that fails is reported and the others go on being called."""
    while True:
        for signum in os.read(reader, 64):  # one byte per signal received
            callback = _callbacks.get(signum)
            if callback is not None:
                try:
                    callback(signum)
                except Exception:
                    sys.excepthook(*sys.exc_info())

"""Run a function inside another network namespace, without moving the caller.

setns(2) with CLONE_NEWNET changes only the calling thread, so the work runs on a
short-lived thread that enters the namespace and ends there. Sockets and netlink handles
created in that function stay bound to the namespace after the thread is gone, and child
processes it starts (iptables-restore, sysctl) run inside it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TypeVar

from dockyard.errors import NotFound, RuntimeFailure
from dockyard.libc import LIBC, errno_message

T = TypeVar("T")
CLONE_NEWNET = 0x40000000


def enter(netns_path: str) -> None:
    """Move the calling thread into the network namespace at `netns_path`."""
    try:
        fd = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise NotFound(f"network namespace {netns_path} not found") from None
    try:
        if LIBC.setns(fd, CLONE_NEWNET) != 0:
            raise RuntimeFailure(f"setns {netns_path}: {errno_message()}")
    finally:
        os.close(fd)


def run_in(netns_path: str, fn: Callable[[], T]) -> T:
    """Call `fn()` on a thread inside the namespace; return its result or raise its error."""
    result: list[T] = []
    error: list[BaseException] = []

    def body() -> None:
        try:
            enter(netns_path)
            result.append(fn())
        except BaseException as exc:  # handed back to the caller below
            error.append(exc)

    thread = threading.Thread(target=body, name=f"netns:{netns_path}", daemon=True)
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


def current_path() -> str:
    """The calling thread's own network namespace, as a path usable by `run_in`."""
    return f"/proc/{os.getpid()}/task/{threading.get_native_id()}/ns/net"

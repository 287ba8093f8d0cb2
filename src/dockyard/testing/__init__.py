"""Fakes shipped as code (as trio.testing and httpx's MockTransport are): the engine's seams
in memory, so the engine is tested without root. Each passes the conformance suite its real
counterpart passes (tests/conformance/).

runtime.py     FakeRuntime: tasks as state machines, driven by the engine and the test
snapshots.py   FakeSnapshotter: layers in memory, snapshots as plain copies, real tar bytes
"""

from dockyard.testing.programs import Program
from dockyard.testing.runtime import FakeRuntime
from dockyard.testing.snapshots import FakeSnapshotter

__all__ = ["FakeRuntime", "FakeSnapshotter", "Program"]

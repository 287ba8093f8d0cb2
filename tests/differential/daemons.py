"""The two daemons under comparison, each in a network namespace of its own.

Both keep their default bridge (dockerd without iptables rules) inside a network namespace
of their own, so they are compared on equal terms and nothing touches the host's network.
(The e2e fixture's `--bridge=none` has no dockyard equivalent: dockyard's `"bridge": "none"`
runs without any network controller, so the networks API would be absent.) Both get busybox
from scripts/busybox-rootfs.sh through `docker import`, as the e2e tests do.
"""

from __future__ import annotations

import os
import subprocess
from contextlib import contextmanager

from tests.e2e.daemon import BUSYBOX_ROOTFS, Daemon
from tests.e2e.reference import ISOLATED, ReferenceDockerd

# dockerd's default bridge, inside the netns of its own (iptables and masquerade still off)
WITH_DEFAULT_BRIDGE = tuple(option for option in ISOLATED if option != "--bridge=none")


@contextmanager
def netns(name: str):
    """A named network namespace with loopback up, deleted on exit."""
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


@contextmanager
def both_daemons():
    """Yield (dockyard host, dockerd host), each with busybox:latest imported."""
    tag = f"dyd{os.getpid()}"
    rootfs = subprocess.run([str(BUSYBOX_ROOTFS)], check=True, capture_output=True).stdout
    with netns(f"{tag}-ours") as ours_ns, netns(f"{tag}-ref") as ref_ns:
        ours = Daemon(netns=ours_ns, config={})
        reference = ReferenceDockerd(netns=ref_ns, options=WITH_DEFAULT_BRIDGE)
        try:
            ours.start()
            reference.start()
            ours.docker("import", "-", "busybox:latest", input=rootfs)
            reference.docker("import", "-", "busybox:latest", input=rootfs)
            yield ours, reference
        finally:
            try:
                _remove_all(reference)
            finally:
                reference.stop()
                ours.cleanup()


def _remove_all(reference: ReferenceDockerd) -> None:
    ids = reference.docker("ps", "-aq", check=False).stdout.split()
    if ids:
        reference.docker("rm", "-f", *ids, check=False)

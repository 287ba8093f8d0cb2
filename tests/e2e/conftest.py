import os

import pytest

from tests.e2e.daemon import BUSYBOX_ROOTFS, Daemon
from tests.e2e.reference import DOCKERD, ReferenceDockerd

CLIENTS = ("dockyard", "docker")


@pytest.fixture(scope="module")
def daemon():
    """One daemon per test module, with busybox imported."""
    instance = Daemon()
    try:
        instance.start().import_busybox()
        yield instance
    finally:
        instance.cleanup()


@pytest.fixture(params=CLIENTS)
def client(request):
    """Each test using it runs twice: through the dockyard CLI and through the real docker CLI."""
    return request.param


@pytest.fixture(scope="session")
def busybox_tar(tmp_path_factory):
    """The busybox rootfs tarball, as a file."""
    import subprocess

    path = tmp_path_factory.mktemp("rootfs") / "busybox.tar"
    subprocess.run([str(BUSYBOX_ROOTFS), str(path)], check=True)
    return path


@pytest.fixture(scope="module")
def reference():
    """A reference dockerd (Debian's docker.io, installed by the test command); a skip only
    where it is not installed, so a dockerd that is there but broken fails loudly."""
    if not os.path.exists(DOCKERD):
        pytest.skip("no reference dockerd installed")
    instance = ReferenceDockerd()
    try:
        instance.start()
        yield instance
    finally:
        instance.stop()

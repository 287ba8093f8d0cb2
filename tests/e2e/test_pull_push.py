"""Pull, push and login end to end: the real docker CLI and the dockyard CLI against a real
daemon, with Debian's docker-registry and `dockyard registry serve` as the registries."""

from __future__ import annotations

import json
import os
import signal
import subprocess

import pytest

from tests.distribution.conftest import PASSWORD, USER, free_port, start_registry, write_htpasswd
from tests.distribution.proxy import MisbehavingProxy
from tests.e2e.daemon import DOCKYARD, Daemon

pytestmark = pytest.mark.root


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    handle = start_registry(tmp_path_factory.mktemp("registry"))
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def dockyard_registry(tmp_path_factory):
    """`dockyard registry serve` on a free loopback port."""
    storage = tmp_path_factory.mktemp("dockyard-registry")
    address = f"127.0.0.1:{free_port()}"
    process = subprocess.Popen(
        [DOCKYARD, "registry", "serve", "--addr", address, "--storage", str(storage)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert b"listening" in process.stdout.readline()
    yield address
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


def blobs(daemon: Daemon) -> set[str]:
    return {p.name for p in (daemon.data_root / "blobs" / "sha256").iterdir()}


def test_docker_push_rmi_pull_run(daemon, registry):
    name = f"{registry.address}/e2e/busybox:v1"
    daemon.docker("tag", "busybox:latest", name)
    pushed = daemon.docker("push", name).stdout
    assert "The push refers to repository" in pushed and "v1: digest: sha256:" in pushed
    daemon.docker("rmi", name)
    pulled = daemon.docker("pull", name).stdout
    assert "Pulling from e2e/busybox" in pulled and "Digest: sha256:" in pulled
    assert "Status: Image is up to date" in pulled or "Downloaded newer image" in pulled
    repo_digests = json.loads(daemon.docker("image", "inspect", name).stdout)[0]["RepoDigests"]
    assert any(d.startswith(f"{registry.address}/e2e/busybox@sha256:") for d in repo_digests)
    assert daemon.docker("run", "--rm", name, "echo", "pulled-ok").stdout.strip() == "pulled-ok"
    inspected = subprocess.run(
        ["skopeo", "inspect", "--tls-verify=false", f"docker://{name}"], capture_output=True, text=True, check=True
    )
    assert json.loads(inspected.stdout)["Layers"]  # an independent tool reads what we pushed


def test_pull_of_a_removed_tag_reuses_the_layer(daemon, registry):
    name = f"{registry.address}/e2e/fresh:v1"
    daemon.docker("tag", "busybox:latest", name)
    daemon.docker("push", name)
    image_id = daemon.inspect(name)["Id"]
    daemon.docker("rmi", "busybox:latest", name)
    try:
        out = daemon.docker("pull", name).stdout
        # the image lives on under the first test's tag: its layer is there already
        assert ": Already exists" in out and "Status: Downloaded newer image for " + name in out
        assert daemon.inspect(name)["Id"] == image_id
        again = daemon.docker("pull", name).stdout
        assert f"Status: Image is up to date for {name}" in again
    finally:
        daemon.docker("tag", name, "busybox:latest")


def test_dockyard_cli_with_dockyard_registry(daemon, dockyard_registry):
    name = f"{dockyard_registry}/dy/busybox:latest"
    daemon.cli("tag", "busybox:latest", name)
    assert "digest: sha256:" in daemon.cli("push", name).stdout
    daemon.cli("rmi", name)
    out = daemon.cli("pull", name).stdout
    assert out.strip().endswith(name)
    assert daemon.cli("run", "--rm", name, "echo", "from-dockyard-registry").stdout.strip() == "from-dockyard-registry"
    skopeo = subprocess.run(
        ["skopeo", "inspect", "--tls-verify=false", f"docker://{name}"], capture_output=True, text=True, check=True
    )
    assert json.loads(skopeo.stdout)["Digest"].startswith("sha256:")
    repository = f"{dockyard_registry}/dy/busybox"
    daemon.cli("tag", "busybox:latest", f"{repository}:second")
    assert "second: digest: sha256:" in daemon.cli("push", "--all-tags", repository).stdout
    daemon.cli("rmi", name, f"{repository}:second")
    out = daemon.cli("pull", "--all-tags", repository).stdout
    assert "Downloaded newer image for " in out
    for tag in ("latest", "second"):
        assert daemon.inspect(f"{repository}:{tag}")["Id"] == daemon.inspect("busybox:latest")["Id"]


def test_multi_platform_index_pulls_the_right_platform(daemon, registry, tmp_path):
    from dockyard.content.local import LocalContentStore
    from dockyard.distribution.client import Registries
    from dockyard.distribution.credentials import DockerConfigFile
    from dockyard.distribution.pusher import Pusher
    from dockyard.oci.reference import parse_reference
    from dockyard.paths import DataRoot
    from tests.distribution.imagegen import make_image, make_index

    source = LocalContentStore(DataRoot(tmp_path / "source"))
    amd = make_image(source, [{"which": b"amd64"}], arch="amd64", oci=True)
    arm = make_image(source, [{"which": b"arm64"}], arch="arm64", oci=True)
    index = make_index(source, {"linux/amd64": amd, "linux/arm64/v8": arm})
    name = f"{registry.address}/e2e/multi:v1"
    Pusher(Registries(credentials=DockerConfigFile(tmp_path / "c.json"))).push(parse_reference(name), index, source)
    daemon.docker("pull", "--platform", "linux/arm64", name)
    assert daemon.inspect(name)["Architecture"] == "arm64"
    assert any(d.endswith(index.digest) for d in daemon.inspect(name)["RepoDigests"])
    daemon.docker("pull", name)  # the host's platform now
    assert daemon.inspect(name)["Architecture"] == "amd64"


def test_misbehaving_registry_leaves_nothing_and_a_later_pull_works(daemon, registry, tmp_path):
    name = f"{registry.address}/e2e/flaky:v1"
    daemon.docker("tag", "busybox:latest", name)
    daemon.docker("push", name)
    daemon.docker("rmi", name)
    proxy = MisbehavingProxy(registry.address)
    try:
        # a fresh data root: the blobs are not there already
        other = Daemon().start()
        try:
            before = blobs(other)
            proxied = f"{proxy.address}/e2e/flaky:v1"
            proxy.fault, proxy.min_blob = "corrupt", 100_000
            failed = other.docker("pull", proxied, check=False)
            assert failed.returncode != 0 and "verification failed" in failed.stderr
            assert blobs(other) == before
            assert other.docker("images", "-q").stdout.strip() == ""
            assert not any((other.data_root / "layers").glob("[0-9a-f]*"))
            proxy.fault = ""
            assert "Pull complete" in other.docker("pull", proxied).stdout
            assert other.docker("run", "--rm", proxied, "echo", "ok").stdout.strip() == "ok"
        finally:
            other.cleanup()
    finally:
        proxy.stop()


def test_mirror_serves_docker_hub_names(registry, tmp_path):
    """`pull busybox` (docker.io/library/busybox) comes from the registry named in registry-mirrors."""
    seed = Daemon().start()
    try:
        seed.import_busybox()
        seed.docker("tag", "busybox:latest", f"{registry.address}/library/busybox:latest")
        seed.docker("push", f"{registry.address}/library/busybox:latest")
    finally:
        seed.cleanup()
    mirrored = Daemon(
        config={"registry-mirrors": [f"http://{registry.address}"], "max-concurrent-downloads": 2}
    ).start()
    try:
        out = mirrored.docker("pull", "busybox").stdout
        assert "Pulling from library/busybox" in out and "Downloaded newer image for busybox:latest" in out
        assert mirrored.docker("run", "--rm", "busybox", "echo", "mirrored").stdout.strip() == "mirrored"
    finally:
        mirrored.cleanup()


def test_basic_auth_with_docker_login(daemon, tmp_path):
    htpasswd = write_htpasswd(tmp_path / "htpasswd")
    secured = start_registry(tmp_path / "secured", auth={"htpasswd": {"realm": "r", "path": str(htpasswd)}})
    try:
        name = f"{secured.address}/private/busybox:v1"
        daemon.docker("tag", "busybox:latest", name)
        denied = daemon.docker("push", name, check=False)
        assert denied.returncode != 0
        wrong = daemon.docker("login", "-u", USER, "--password-stdin", secured.address, input="nope\n", check=False)
        assert wrong.returncode != 0 and "401" in wrong.stderr
        login = daemon.docker("login", "-u", USER, "--password-stdin", secured.address, input=PASSWORD + "\n")
        assert "Login Succeeded" in login.stdout
        daemon.docker("push", name)
        daemon.docker("rmi", name)
        daemon.docker("pull", name)
        assert daemon.docker("run", "--rm", name, "echo", "authed").stdout.strip() == "authed"
    finally:
        daemon.docker("logout", secured.address, check=False)
        secured.stop()


def test_missing_image_and_missing_local_image_errors(daemon, registry):
    missing = daemon.docker("pull", f"{registry.address}/e2e/nothing:v1", check=False)
    assert missing.returncode != 0 and "not found" in missing.stderr
    assert "manifest unknown" in missing.stderr
    unpushable = daemon.docker("push", f"{registry.address}/e2e/never-tagged:v1", check=False)
    assert unpushable.returncode != 0
    assert "An image does not exist locally with the tag" in unpushable.stderr

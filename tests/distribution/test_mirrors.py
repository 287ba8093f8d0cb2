"""Mirrors from daemon.json: `pull busybox` comes from a local registry standing in for Docker Hub."""

import pytest

from dockyard.content.local import LocalContentStore
from dockyard.distribution.client import Registries
from dockyard.distribution.config import RegistryConfig
from dockyard.distribution.credentials import DockerConfigFile
from dockyard.distribution.pull import pull
from dockyard.distribution.pusher import Pusher
from dockyard.errors import NotFound
from dockyard.oci.reference import parse_reference
from dockyard.paths import DataRoot

from .conftest import free_port
from .imagegen import make_image, noise
from .proxy import MisbehavingProxy


@pytest.fixture
def hub_busybox(registry, tmp_path):
    """library/busybox:latest pushed to the local registry, as a Docker Hub mirror would hold it."""
    source = LocalContentStore(DataRoot(tmp_path / "source"))
    manifest = make_image(source, [{"bin/busybox": noise(50_000, "busybox")}])
    registries = Registries(RegistryConfig(), DockerConfigFile(tmp_path / "cfg.json"))
    Pusher(registries).push(parse_reference(f"{registry.address}/library/busybox:latest"), manifest, source)
    return manifest


def target(tmp_path, name="target"):
    return LocalContentStore(DataRoot(tmp_path / name))


def test_registry_mirrors_serve_docker_hub(registry, hub_busybox, tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"
    config = RegistryConfig.from_daemon_json({"registry-mirrors": [dead, f"http://{registry.address}"]})
    registries = Registries(config, DockerConfigFile(tmp_path / "cfg.json"))
    resolved = pull(registries, parse_reference("busybox"), target(tmp_path))
    assert resolved.digest == hub_busybox.digest
    assert resolved.endpoint.url == f"http://{registry.address}" and resolved.endpoint.mirror
    assert resolved.reference.familiar() == "busybox:latest"


def test_per_registry_mirror_map_with_fallback_to_the_registry(registry, hub_busybox, tmp_path):
    proxy = MisbehavingProxy(registry.address)
    try:
        config = RegistryConfig.from_daemon_json(
            {"registry-mirrors-map": {registry.address: [f"http://{proxy.address}"]}}
        )
        registries = Registries(config, DockerConfigFile(tmp_path / "cfg.json"))
        ref = parse_reference(f"{registry.address}/library/busybox:latest")
        resolved = pull(registries, ref, target(tmp_path, "a"))
        assert resolved.endpoint.mirror and any("/manifests/latest" in path for _, path, _ in proxy.log)
        proxy.fault, proxy.min_blob = "corrupt", 10_000  # bad layers on the mirror: fetched from the registry
        store = target(tmp_path, "b")
        resolved = pull(registries, ref, store)
        assert resolved.endpoint.mirror and store.exists(hub_busybox.layers[0].digest)
        proxy.fault = "unknown-type"  # the mirror serves a bad manifest: resolved on the registry
        resolved = pull(registries, ref, target(tmp_path, "c"))
        assert not resolved.endpoint.mirror and resolved.digest == hub_busybox.digest
    finally:
        proxy.stop()
    resolved = pull(registries, ref, target(tmp_path, "d"))  # mirror gone: the registry itself
    assert not resolved.endpoint.mirror and resolved.digest == hub_busybox.digest


def test_mirror_missing_the_image_falls_back(registry, hub_busybox, tmp_path):
    empty = MisbehavingProxy(registry.address)
    try:
        config = RegistryConfig.from_daemon_json(
            {"registry-mirrors-map": {registry.address: [f"http://{empty.address}"]}}
        )
        registries = Registries(config, DockerConfigFile(tmp_path / "cfg.json"))
        with pytest.raises(NotFound):
            pull(registries, parse_reference(f"{empty.address}/library/nothing:latest"), target(tmp_path))
        ref = parse_reference(f"{registry.address}/library/nothing-on-mirror:latest")
        with pytest.raises(NotFound, match="manifest for .*nothing-on-mirror:latest not found"):
            pull(registries, ref, target(tmp_path))
        assert any("nothing-on-mirror" in path for _, path, _ in empty.log)
    finally:
        empty.stop()

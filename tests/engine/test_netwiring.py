"""The pure parts of container networking: daemon.json settings, modes, files written in place."""

import os

import pytest

from dockyard.engine.containers.model import Container
from dockyard.engine.networks.wiring import network_config, network_mode, write_file
from dockyard.errors import InvalidArgument
from dockyard.network.config import NetworkConfig


def test_daemon_json_network_settings():
    config = network_config(
        {"bip": "10.66.0.1/24", "mtu": 9000, "default-address-pools": [{"base": "10.70.0.0/16", "size": 24}]}
    )
    assert config.default_subnet == "10.66.0.0/24"
    assert config.mtu == 9000
    assert config.address_pools == (("10.70.0.0/16", 24),)
    assert network_config({}) == NetworkConfig()


@pytest.mark.parametrize(
    "settings", [{"bip": "nonsense"}, {"mtu": "big"}, {"default-address-pools": [{"base": "10.0.0.0/8"}]}]
)
def test_bad_daemon_json_network_settings(settings):
    with pytest.raises(InvalidArgument, match="invalid network settings"):
        network_config(settings)


def _container(mode: str | None) -> Container:
    host = {} if mode is None else {"NetworkMode": mode}
    return Container("c" * 64, "c", "busybox", "sha256:x", "", {}, host)


def test_network_mode_spells_default_as_bridge():
    assert network_mode(_container(None)) == "bridge"
    assert network_mode(_container("default")) == "bridge"
    assert network_mode(_container("container:web")) == "container:web"


def test_write_file_in_place_keeps_the_inode_a_bind_mount_holds(tmp_path):
    path = tmp_path / "hosts"
    write_file(path, "first\n", in_place=False)
    inode = os.stat(path).st_ino
    write_file(path, "second\n", in_place=True)
    assert os.stat(path).st_ino == inode and path.read_text() == "second\n"
    write_file(path, "third\n", in_place=False)
    assert os.stat(path).st_ino != inode and path.read_text() == "third\n"
    assert not (tmp_path / "hosts.tmp").exists()

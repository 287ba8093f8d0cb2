"""The local driver's names and options, and the volume service's filters (pure)."""

import pytest

from dockyard.engine.volumes.rules import check_filters, listed, prunable, volume_json
from dockyard.errors import InvalidArgument
from dockyard.volumes.local import check_name, check_options, mount_data
from dockyard.volumes.store import ANONYMOUS, VolumeRecord


def test_names():
    check_name("db-data_1.x")
    for bad in ("a", "-x", "a/b", "has space"):
        with pytest.raises(InvalidArgument, match="includes invalid characters for a local volume name"):
            check_name(bad)


def test_options_as_dockers_local_driver_takes_them():
    check_options({})
    check_options({"type": "tmpfs", "device": "tmpfs", "o": "size=1m"})
    check_options({"type": "none", "device": "/srv", "o": "bind"})
    with pytest.raises(InvalidArgument, match='invalid option: "bogus"'):
        check_options({"bogus": "1"})
    with pytest.raises(InvalidArgument, match='missing required option: "device"'):
        check_options({"type": "tmpfs"})
    with pytest.raises(InvalidArgument, match="quota size requested but no quota support"):
        check_options({"size": "1g"})


def test_mount_options_split_into_flags_and_data():
    flags, data = mount_data({"type": "tmpfs", "o": "size=1m,ro,uid=5"})
    assert flags == 1 and data == "size=1m,uid=5"
    assert mount_data({"type": "nfs", "o": "addr=127.0.0.1,vers=4"})[1] == "addr=127.0.0.1,vers=4"
    assert mount_data({"type": "nfs", "o": "addr=localhost"})[1] == "addr=127.0.0.1"


def test_filters():
    named = VolumeRecord("web", labels={"env": "prod"})
    anon = VolumeRecord("f" * 64, labels={ANONYMOUS: ""})
    assert listed(named, {"name": ["we"]}, in_use=False)
    assert not listed(named, {"label": ["env=dev"]}, in_use=False)
    assert listed(named, {"dangling": ["true"]}, in_use=False)
    assert not listed(named, {"dangling": ["true"]}, in_use=True)
    assert not prunable(named, {}) and prunable(named, {"all": ["true"]})
    assert prunable(anon, {}) and not prunable(anon, {"label!": [ANONYMOUS]})
    with pytest.raises(InvalidArgument, match="invalid filter 'bogus'"):
        check_filters({"bogus": ["1"]}, ("name",))


def test_json_shape():
    shown = volume_json(VolumeRecord("v", created="2024-01-01T00:00:00Z"), "/root/volumes/v/_data")
    assert shown == {
        "CreatedAt": "2024-01-01T00:00:00Z",
        "Driver": "local",
        "Labels": None,
        "Mountpoint": "/root/volumes/v/_data",
        "Name": "v",
        "Options": None,
        "Scope": "local",
    }

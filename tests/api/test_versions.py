"""Create requests from older API versions, translated to the current shape (pure)."""

from __future__ import annotations

import pytest

from dockyard.api.versions import MAC_DEPRECATED, adapt_create
from dockyard.errors import InvalidArgument

MOUNT = {
    "Type": "bind",
    "Source": "/src",
    "Target": "/dst",
    "BindOptions": {"CreateMountpoint": True, "ReadOnlyNonRecursive": True},
}


def test_current_version_passes_through_unchanged():
    config = {"Image": "busybox", "Healthcheck": {"Test": ["NONE"], "StartInterval": 5}}
    host = {"Mounts": [MOUNT], "ConsoleSize": [24, 80]}
    request = adapt_create(config, host, None, "1.44")
    assert (request.config, request.host_config, request.networking_config) == (config, host, None)
    assert request.warnings == []


def test_fields_newer_than_the_client_are_dropped():
    config = {"Image": "busybox", "Healthcheck": {"Test": ["NONE"], "StartInterval": 5}}
    host = {"Mounts": [MOUNT], "ConsoleSize": [24, 80]}
    request = adapt_create(config, host, None, "1.41")
    assert request.config["Healthcheck"] == {"Test": ["NONE"]}
    assert "ConsoleSize" not in request.host_config
    assert request.host_config["Mounts"][0]["BindOptions"] == {}
    assert config["Healthcheck"]["StartInterval"] == 5 and host["ConsoleSize"] == [24, 80]  # inputs untouched
    assert host["Mounts"][0]["BindOptions"] == MOUNT["BindOptions"] != {}  # nested ones too


def test_1_43_keeps_1_42_fields_but_drops_1_44_ones():
    request = adapt_create({"Image": "b"}, {"Mounts": [MOUNT], "ConsoleSize": [1, 2]}, None, "1.43")
    assert request.host_config["Mounts"][0]["BindOptions"] == {"CreateMountpoint": True}
    assert request.host_config["ConsoleSize"] == [1, 2]


def test_cgroupns_defaults_to_host_before_1_41():
    assert adapt_create({"Image": "b"}, {}, None, "1.40").host_config["CgroupnsMode"] == "host"
    assert (
        adapt_create({"Image": "b"}, {"CgroupnsMode": "private"}, None, "1.40").host_config["CgroupnsMode"] == "private"
    )
    assert "CgroupnsMode" not in adapt_create({"Image": "b"}, {}, None, "1.41").host_config


def test_container_mac_moves_to_the_main_endpoint_quietly_before_1_44():
    request = adapt_create({"Image": "b", "MacAddress": "02:42:ac:11:00:02"}, {}, None, "1.41")
    assert request.networking_config == {"EndpointsConfig": {"bridge": {"MacAddress": "02:42:ac:11:00:02"}}}
    assert request.warnings == []


def test_container_mac_is_deprecated_from_1_44():
    request = adapt_create(
        {"Image": "b", "MacAddress": "02:42:ac:11:00:02"},
        {"NetworkMode": "net1"},
        {"EndpointsConfig": {"net1": {"Aliases": ["db"]}}},
        "1.44",
    )
    assert request.networking_config["EndpointsConfig"]["net1"] == {
        "Aliases": ["db"],
        "MacAddress": "02:42:ac:11:00:02",
    }
    assert request.warnings == [MAC_DEPRECATED]


def test_conflicting_macs_are_rejected():
    with pytest.raises(InvalidArgument, match="must match the endpoint-specific MAC address"):
        adapt_create(
            {"Image": "b", "MacAddress": "02:42:ac:11:00:02"},
            {},
            {"EndpointsConfig": {"bridge": {"MacAddress": "02:42:ac:11:00:03"}}},
            "1.44",
        )


def test_no_endpoint_for_host_networking():
    request = adapt_create({"Image": "b", "MacAddress": "02:42:ac:11:00:02"}, {"NetworkMode": "host"}, None, "1.44")
    assert request.networking_config is None and request.warnings == []


@pytest.mark.parametrize(("config", "host", "net"), [([], {}, None), ({}, "x", None), ({}, {}, [1])])
def test_parts_that_are_not_objects_are_invalid(config, host, net):
    with pytest.raises(InvalidArgument, match="must be an object"):
        adapt_create(config, host, net, "1.44")

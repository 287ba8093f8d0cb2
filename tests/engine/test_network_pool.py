"""The IPAM config of POST /networks/create read into the bridge driver's pools, one per family (pure)."""

from __future__ import annotations

import pytest

from dockyard.engine.networks.service import ipam_pools
from dockyard.errors import InvalidArgument
from dockyard.network.ipam import PoolRequest


def test_one_pool_with_its_range_and_auxiliary_addresses():
    config = {
        "IPAM": {
            "Config": [{"Subnet": "10.1.0.0/24", "IPRange": "10.1.0.128/25", "AuxiliaryAddresses": {"r": "10.1.0.2"}}]
        }
    }
    assert ipam_pools(config) == {
        "subnet": "10.1.0.0/24",
        "gateway": None,
        "ip_range": "10.1.0.128/25",
        "aux_addresses": {"r": "10.1.0.2"},
        "ipv6": None,
        "asked_pools": [{"Subnet": "10.1.0.0/24", "IPRange": "10.1.0.128/25", "AuxiliaryAddresses": {"r": "10.1.0.2"}}],
    }
    assert ipam_pools({}) == {
        "subnet": None,
        "gateway": None,
        "ip_range": None,
        "aux_addresses": {},
        "ipv6": None,
        "asked_pools": [],
    }


def test_an_ipv6_pool_beside_the_ipv4_one_when_ipv6_is_enabled():
    config = {
        "EnableIPv6": True,
        "IPAM": {"Config": [{"Subnet": "fd00:1::/64", "Gateway": "fd00:1::fe"}, {"Subnet": "10.1.0.0/24"}]},
    }
    got = ipam_pools(config)
    assert (got["subnet"], got["ipv6"]) == ("10.1.0.0/24", PoolRequest("fd00:1::/64", "fd00:1::fe"))
    # shown as given, IPv4 pools first (dockerd lists the families in that order)
    assert got["asked_pools"] == [{"Subnet": "10.1.0.0/24"}, {"Subnet": "fd00:1::/64", "Gateway": "fd00:1::fe"}]
    # EnableIPv6 without a pool asks the driver for one (which it has none of: see test_networks)
    assert ipam_pools({"EnableIPv6": True})["ipv6"] == PoolRequest()


def test_an_ipv6_pool_without_enable_ipv6_is_a_400_not_dropped():
    with pytest.raises(InvalidArgument, match="the IPv6 pool fd00:1::/64 needs EnableIPv6"):
        ipam_pools({"IPAM": {"Config": [{"Subnet": "fd00:1::/64"}]}})


@pytest.mark.parametrize(
    ("pool", "message"),
    [
        ({"Gateway": "10.1.0.1"}, "gateway without subnet: every --gateway needs a matching --subnet"),
        ({"IPRange": "10.1.0.0/25"}, "ip-range without subnet: every --ip-range needs a matching --subnet"),
        ({"AuxiliaryAddresses": {"r": "10.1.0.2"}}, "aux-address without subnet"),
    ],
)
def test_a_pool_part_without_its_subnet_is_a_400(pool, message):
    with pytest.raises(InvalidArgument, match=message):
        ipam_pools({"IPAM": {"Config": [pool]}})


def test_more_than_one_pool_of_a_family_is_a_400():
    with pytest.raises(InvalidArgument, match="one IPv4 pool per network"):
        ipam_pools({"IPAM": {"Config": [{"Subnet": "10.1.0.0/24"}, {"Subnet": "10.2.0.0/24"}]}})
    with pytest.raises(InvalidArgument, match="one IPv6 pool per network"):
        ipam_pools({"EnableIPv6": True, "IPAM": {"Config": [{"Subnet": "fd00:1::/64"}, {"Subnet": "fd00:2::/64"}]}})


@pytest.mark.parametrize("pools", [[{"Subnet": "10.1.0.0/24"}, None], [1], {"Subnet": "10.1.0.0/24"}])
def test_a_pool_that_is_not_an_object_is_a_400(pools):
    with pytest.raises(InvalidArgument, match="IPAM.Config: a list of pools, each an object"):
        ipam_pools({"IPAM": {"Config": pools}})

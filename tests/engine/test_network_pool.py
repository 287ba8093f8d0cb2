"""The IPAM config of POST /networks/create read into the bridge driver's one pool (pure)."""

from __future__ import annotations

import pytest

from dockyard.engine.networks.service import ipam_pool
from dockyard.errors import InvalidArgument


def test_one_pool_with_its_range_and_auxiliary_addresses():
    config = {
        "IPAM": {
            "Config": [{"Subnet": "10.1.0.0/24", "IPRange": "10.1.0.128/25", "AuxiliaryAddresses": {"r": "10.1.0.2"}}]
        }
    }
    assert ipam_pool(config) == {
        "subnet": "10.1.0.0/24",
        "gateway": None,
        "ip_range": "10.1.0.128/25",
        "aux_addresses": {"r": "10.1.0.2"},
    }
    assert ipam_pool({}) == {"subnet": None, "gateway": None, "ip_range": None, "aux_addresses": {}}


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
        ipam_pool({"IPAM": {"Config": [pool]}})


def test_more_than_one_pool_is_a_400():
    with pytest.raises(InvalidArgument, match="one IPv4 pool per network"):
        ipam_pool({"IPAM": {"Config": [{"Subnet": "10.1.0.0/24"}, {"Subnet": "10.2.0.0/24"}]}})

"""IPAM.Config of `docker network create`: moby's checks, in API 1.44's wording."""

import pytest

from dockyard.errors import InvalidArgument
from dockyard.network import ipamconfig


@pytest.mark.parametrize(
    "pool, message",
    [
        ({"Subnet": "300.1.1.1/24"}, "invalid subnet 300.1.1.1/24: invalid CIDR block notation"),
        ({"Subnet": "10.1.1.1/24"}, "invalid subnet 10.1.1.1/24: it should be 10.1.1.0/24"),
        ({"Gateway": "10.1.0.1"}, "invalid subnet : invalid CIDR block notation"),
        (
            {"Subnet": "10.98.0.0/24", "Gateway": "10.97.0.1"},
            "invalid gateway 10.97.0.1: parent subnet 10.98.0.0/24 doesn't contain this address",
        ),
        (
            {"Subnet": "10.98.0.0/24", "IPRange": "10.97.0.0/25"},
            "invalid ip-range 10.97.0.0/25: parent subnet 10.98.0.0/24 doesn't contain ip-range",
        ),
        ({"Subnet": "10.98.0.0/24", "IPRange": "nope"}, "invalid ip-range nope: invalid CIDR block notation"),
        (
            {"Subnet": "10.98.0.0/24", "IPRange": "fd00::/64"},
            "invalid ip-range fd00::/64: parent subnet is an IPv4 block",
        ),
        (
            {"Subnet": "10.98.0.0/24", "AuxiliaryAddresses": {"a": "10.94.0.1"}},
            "invalid auxiliary address a: parent subnet 10.98.0.0/24 doesn't contain this address",
        ),
        (
            {"Subnet": "10.98.0.0/24", "AuxiliaryAddresses": {"a": "nope"}},
            "invalid auxiliary address a: invalid address",
        ),
    ],
)
def test_one_problem_is_said_alone(pool, message):
    with pytest.raises(InvalidArgument) as caught:
        ipamconfig.validate([pool])
    assert str(caught.value) == "invalid network config:\n" + message


def test_several_problems_are_listed():
    with pytest.raises(InvalidArgument) as caught:
        ipamconfig.validate([{"Subnet": "10.98.0.0/24", "IPRange": "10.0.0.0/16"}, {"Subnet": "x"}])
    assert str(caught.value) == (
        "invalid network config:\n"
        "* invalid ip-range 10.0.0.0/16: CIDR block is bigger than its parent subnet 10.98.0.0/24\n"
        "* invalid ip-range 10.0.0.0/16: parent subnet 10.98.0.0/24 doesn't contain ip-range\n"
        "* invalid subnet x: invalid CIDR block notation"
    )


def test_good_pools_pass_and_ipv6_ones_are_checked_only_with_ipv6():
    ipamconfig.validate(
        [{"Subnet": "10.95.0.0/24", "IPRange": "10.95.0.128/25", "AuxiliaryAddresses": {"r": "10.95.0.129"}}]
    )
    ipamconfig.validate([{"Subnet": "fd00::1/64"}])  # moby skips IPv6 pools when IPv6 is off
    with pytest.raises(InvalidArgument, match="it should be fd00::/64"):
        ipamconfig.validate([{"Subnet": "fd00::1/64"}], ipv6=True)

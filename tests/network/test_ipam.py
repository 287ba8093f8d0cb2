from ipaddress import IPv4Address, IPv4Interface, IPv4Network, IPv6Address, IPv6Interface, IPv6Network

import pytest

from dockyard.errors import AddressesExhausted, Forbidden, InvalidArgument, RuntimeFailure
from dockyard.network import ipam


def test_choose_subnet_skips_docker0_and_routes():
    taken = [
        IPv4Network("172.17.0.0/16"),
        IPv4Network("172.18.0.0/16"),
        IPv4Network("172.19.5.0/24"),
        IPv4Network("0.0.0.0/0"),
    ]
    assert ipam.choose_subnet(taken) == IPv4Network("172.20.0.0/16")


def test_choose_subnet_falls_to_192_168_in_20s():
    taken = [IPv4Network("172.16.0.0/12")]
    assert ipam.choose_subnet(taken) == IPv4Network("192.168.0.0/20")


def test_next_address_never_twice():
    subnet, gw = IPv4Network("10.0.0.0/29"), IPv4Address("10.0.0.1")
    given: list[IPv4Address] = []
    for _ in range(5):
        given.append(ipam.next_address(subnet, gw, given))
    assert [str(a) for a in given] == ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"]
    with pytest.raises(Exception, match="no available IPv4 addresses"):
        ipam.next_address(subnet, gw, given)
    assert ipam.next_address(subnet, gw, given[1:]) == IPv4Address("10.0.0.2")


def test_requested_address_checks():
    subnet, gw = IPv4Network("10.0.0.0/24"), IPv4Address("10.0.0.1")
    assert ipam.check_requested("10.0.0.9", subnet, gw, []) == IPv4Address("10.0.0.9")
    with pytest.raises(Forbidden, match="Address already in use"):
        ipam.check_requested("10.0.0.9", subnet, gw, [IPv4Address("10.0.0.9")])
    with pytest.raises(Forbidden):
        ipam.check_requested("10.0.0.1", subnet, gw, [])
    with pytest.raises(InvalidArgument, match="no configured subnet"):
        ipam.check_requested("10.0.1.9", subnet, gw, [])


def test_subnet_gateway_and_overlap():
    assert ipam.parse_subnet("10.1.2.3/24") == IPv4Network("10.1.2.0/24")
    with pytest.raises(InvalidArgument, match="invalid CIDR address: nope"):
        ipam.parse_subnet("nope")
    with pytest.raises(InvalidArgument, match="invalid IPv4 subnet: fd00::/64"):  # a 400, not a 501
        ipam.parse_subnet("fd00::/64")
    assert ipam.parse_gateway(None, IPv4Network("10.1.0.0/16")) == IPv4Address("10.1.0.1")
    with pytest.raises(InvalidArgument, match="no matching subnet for gateway 10.2.0.1"):
        ipam.parse_gateway("10.2.0.1", IPv4Network("10.1.0.0/16"))
    with pytest.raises(Forbidden, match="Pool overlaps with other one on this address space"):
        ipam.check_overlap(IPv4Network("10.1.128.0/17"), [IPv4Network("10.1.0.0/16")])


def test_mac():
    assert ipam.mac_for(IPv4Address("172.18.0.2")) == "02:42:ac:12:00:02"
    assert ipam.check_mac("02:AA:bb:cc:dd:ee") == "02:aa:bb:cc:dd:ee"
    for bad in ("01:00:00:00:00:01", "02:42", "zz:00:00:00:00:00"):
        with pytest.raises(InvalidArgument):
            ipam.check_mac(bad)


def test_adoptable_keeps_a_free_address_of_an_earlier_bridge():
    earlier = [IPv4Interface("172.18.0.1/16")]
    assert ipam.adoptable(earlier, None, []) == IPv4Interface("172.18.0.1/16")
    assert ipam.adoptable(earlier, None, [IPv4Network("172.18.5.0/24")]) is None  # one of ours has it
    assert ipam.adoptable([], None, []) is None


def test_adoptable_follows_bip_when_one_is_set():
    earlier = [IPv4Interface("172.18.0.1/16"), IPv4Interface("10.77.0.1/24")]
    assert ipam.adoptable(earlier, IPv4Network("10.77.0.0/24"), []) == IPv4Interface("10.77.0.1/24")
    assert ipam.adoptable(earlier, IPv4Network("10.78.0.0/24"), []) is None
    assert ipam.adoptable([IPv4Interface("10.77.0.9/24")], IPv4Network("10.77.0.0/24"), []) is None  # not the gateway


def test_adoptable_skips_what_cannot_be_a_gateway():
    assert ipam.adoptable([IPv4Interface("10.0.0.0/24"), IPv4Interface("10.1.0.1/32")], None, []) is None


def test_an_ip_range_limits_the_addresses_handed_out_and_auxiliary_ones_are_skipped():
    subnet, gateway = IPv4Network("10.95.0.0/24"), IPv4Address("10.95.0.1")
    ip_range = ipam.parse_ip_range("10.95.0.128/25", subnet)
    reserved = list(ipam.parse_aux_addresses({"router": "10.95.0.128", "nas": "10.95.0.130"}, subnet).values())
    first = ipam.next_address(subnet, gateway, [], ip_range, reserved)
    second = ipam.next_address(subnet, gateway, [first], ip_range, reserved)
    assert (first, second) == (IPv4Address("10.95.0.129"), IPv4Address("10.95.0.131"))
    last = IPv4Network("10.95.0.0/30")  # a range ending at the subnet's broadcast never hands that out
    assert ipam.next_address(IPv4Network("10.95.0.0/30"), IPv4Address("10.95.0.1"), [], last) == IPv4Address(
        "10.95.0.2"
    )
    with pytest.raises(AddressesExhausted, match="10.95.0.252/30"):
        full = ipam.parse_ip_range("10.95.0.252/30", subnet)
        ipam.next_address(
            subnet, gateway, [IPv4Address("10.95.0.252"), IPv4Address("10.95.0.253"), IPv4Address("10.95.0.254")], full
        )
    with pytest.raises(Forbidden, match="^Address already in use$"):
        ipam.check_requested("10.95.0.128", subnet, gateway, reserved)
    assert ipam.check_requested("10.95.0.5", subnet, gateway, reserved) == IPv4Address(
        "10.95.0.5"
    )  # outside the range: fine


@pytest.mark.parametrize(
    ("ip_range", "aux", "message"),
    [
        ("10.94.0.0/25", {}, "invalid ip-range 10.94.0.0/25: it must be within subnet 10.95.0.0/24"),
        ("10.95.0.0/23", {}, "it must be within subnet"),
        ("nonsense", {}, "invalid CIDR address: nonsense"),
        (None, {"x": "10.94.0.1"}, "auxiliary address x=10.94.0.1 is not within subnet 10.95.0.0/24"),
        (None, {"x": "nope"}, "invalid auxiliary address x=nope"),
    ],
)
def test_bad_ranges_and_auxiliary_addresses_are_400s(ip_range, aux, message):
    subnet = IPv4Network("10.95.0.0/24")
    with pytest.raises(InvalidArgument, match=message):
        ipam.parse_ip_range(ip_range, subnet)
        ipam.parse_aux_addresses(aux, subnet)


def test_without_a_gateway_a_range_gives_its_first_address_as_dockerd():
    subnet = IPv4Network("10.86.0.0/24")
    assert ipam.parse_gateway(None, subnet, IPv4Network("10.86.0.128/25")) == IPv4Address("10.86.0.128")
    assert ipam.parse_gateway(None, subnet, IPv4Network("10.86.0.0/25")) == IPv4Address("10.86.0.1")
    assert ipam.parse_gateway(None, subnet) == IPv4Address("10.86.0.1")
    assert ipam.parse_gateway("10.86.0.7", subnet, IPv4Network("10.86.0.128/25")) == IPv4Address("10.86.0.7")


def test_link_local_ips_as_libnetwork_adds_them_and_dockerd_refuses_them():
    assert ipam.parse_link_local(["169.254.9.9", "169.254.200.1"]) == [
        IPv4Interface("169.254.9.9/16"),
        IPv4Interface("169.254.200.1/16"),
    ]
    assert ipam.parse_link_local([]) == []
    with pytest.raises(InvalidArgument, match=r"^invalid link local IP address: 10.0.0.1$"):
        ipam.parse_link_local(["169.254.9.9", "10.0.0.1"])
    with pytest.raises(InvalidArgument, match=r"^Invalid link-local IP address: \[169.254.9.9 bogus\]$"):
        ipam.parse_link_local(["169.254.9.9", "bogus"])
    with pytest.raises(InvalidArgument, match=r"^Invalid link-local IP address: \[169.254.9.9 \]$"):
        ipam.parse_link_local(["169.254.9.9", None])  # a JSON null: Go's empty string, not a 500
    assert ipam.parse_link_local(["fe80::9"]) == [IPv6Interface("fe80::9/64")]


def test_ipv6_pools_and_addresses():
    subnet = ipam.parse_subnet("fd00:1::9/64", 6)
    assert subnet == IPv6Network("fd00:1::/64")
    for raw, message in (("10.0.0.0/24", "invalid IPv6 subnet"), ("fd00::/127", "too small"), ("x", "invalid CIDR")):
        with pytest.raises(InvalidArgument, match=message):
            ipam.parse_subnet(raw, 6)
    gateway = ipam.parse_gateway(None, subnet)
    assert gateway == IPv6Address("fd00:1::1")
    with pytest.raises(InvalidArgument, match="invalid gateway address 10.0.0.1"):
        ipam.parse_gateway("10.0.0.1", subnet)  # the other family
    taken = [IPv6Address("fd00:1::2")]
    assert ipam.next_address(subnet, gateway, taken) == IPv6Address("fd00:1::3")
    ranged = ipam.parse_ip_range("fd00:1::100/120", subnet)
    assert ipam.next_address(subnet, gateway, taken, ranged) == IPv6Address("fd00:1::100")
    assert ipam.check_requested("fd00:1::99", subnet, gateway, taken) == IPv6Address("fd00:1::99")
    with pytest.raises(InvalidArgument, match="invalid IPv6 address: 10.0.0.5"):
        ipam.check_requested("10.0.0.5", subnet, gateway, taken)
    with pytest.raises(Forbidden, match="Address already in use"):
        ipam.check_requested("fd00:1::1", subnet, gateway, taken)
    with pytest.raises(InvalidArgument, match="no configured subnet or ip-range contain the IP address fd00:2::5"):
        ipam.check_requested("fd00:2::5", subnet, gateway, taken)
    # overlap is per family: an IPv4 network never clashes with an IPv6 one
    ipam.check_overlap(subnet, [IPv4Network("10.0.0.0/8")])
    with pytest.raises(Forbidden, match="Pool overlaps"):
        ipam.check_overlap(ipam.parse_subnet("fd00:1:0:0:1::/80", 6), [subnet])


def test_the_last_address_of_an_ipv6_pool_is_handed_out_and_ipv4_keeps_its_broadcast():
    small6 = ipam.parse_subnet("fd00:97::/126", 6)
    gateway6 = ipam.parse_gateway(None, small6)
    assert ipam.check_requested("fd00:97::3", small6, gateway6, []) == IPv6Address("fd00:97::3")
    assert ipam.next_address(small6, gateway6, [IPv6Address("fd00:97::2")]) == IPv6Address("fd00:97::3")
    assert ipam.parse_gateway("fd00:97::3", small6) == IPv6Address("fd00:97::3")
    small4 = ipam.parse_subnet("10.97.0.0/30", 4)
    gateway4 = ipam.parse_gateway(None, small4)
    with pytest.raises(InvalidArgument, match="no configured subnet or ip-range contain the IP address 10.97.0.3"):
        ipam.check_requested("10.97.0.3", small4, gateway4, [])
    with pytest.raises(AddressesExhausted):
        ipam.next_address(small4, gateway4, [IPv4Address("10.97.0.2")])


def test_an_ip_range_without_an_address_for_the_gateway_is_refused_in_libnetworks_words():
    subnet = ipam.parse_subnet("10.94.0.0/24", 4)
    with pytest.raises(RuntimeFailure, match=r"^failed to allocate gateway \(\): No available addresses on this pool$"):
        ipam.parse_gateway(None, subnet, ipam.parse_ip_range("10.94.0.255/32", subnet))


def test_an_auxiliary_address_on_the_gateway_is_refused_in_libnetworks_words():
    for gateway in (IPv4Address("10.86.0.128"), IPv6Address("fd00:5::1")):
        message = rf"^failed to allocate secondary ip address \(r:{gateway}\): Address already in use$"
        with pytest.raises(Forbidden, match=message):
            ipam.check_aux_addresses({"ok": gateway + 1, "r": gateway}, gateway)
        ipam.check_aux_addresses({"ok": gateway + 1}, gateway)


def test_an_address_is_a_string_of_its_family_without_a_zone():
    assert ipam.parse_address("fd00::1", 6) == IPv6Address("fd00::1")
    for raw, version in (("fd00::1%eth0", 6), (167772161, 4), (None, 4), ("10.0.0.1", 6), ("fd00::1", 4)):
        with pytest.raises(ValueError):
            ipam.parse_address(raw, version)
    subnet = IPv6Network("fd00::/64")
    with pytest.raises(InvalidArgument, match="invalid IPv6 address"):
        ipam.check_requested("fd00::1%x", subnet, IPv6Address("fd00::1"), [])  # would dodge "in use"

"""User-defined networks: DNS by name and alias, isolation, NAT out, live connect/disconnect."""

import pytest

from dockyard.errors import Conflict, Forbidden, InvalidArgument, NoSuchNetwork
from tests.network.harness import OUTSIDE_IP, probe, ruleset, sh

pytestmark = pytest.mark.root
A, B, C = "a" * 64, "b" * 64, "c" * 64


def test_containers_resolve_each_other_by_name_alias_and_id(controller, spaces, servers):
    net = controller.create_network("app", subnet="10.77.0.0/24", labels={"tier": "web"})
    c1, c2 = spaces.add("c1"), spaces.add("c2")
    web = controller.connect("app", A, spaces.path(c1), "web", aliases=("www",))
    controller.connect("app", B, spaces.path(c2), "client")
    assert web.ip == "10.77.0.2" and web.gateway == "10.77.0.1"
    servers.http(c1, 80, "by-name")
    for name in ("web", "www", A[:12], "web.app"):
        assert probe("dns", name, ns=c2) == "10.77.0.2", name
    assert probe("tcp", "web", 80, ns=c2) == "by-name"
    inspect = controller.inspect("app")
    assert inspect["Id"] == net.id and inspect["Labels"] == {"tier": "web"}
    assert inspect["IPAM"]["Config"] == [{"Subnet": "10.77.0.0/24", "Gateway": "10.77.0.1"}]
    assert inspect["Containers"][A]["IPv4Address"] == "10.77.0.2/24"
    assert controller.network_settings(A)["Networks"]["app"]["DNSNames"] == ["web", "www", A[:12]]


def test_the_default_bridge_shows_its_subnet_only_as_dockerd(controller):
    (pool,) = controller.inspect("bridge")["IPAM"]["Config"]
    assert list(pool) == ["Subnet"]  # its gateway is not shown unless daemon.json's bip names it


def test_unknown_names_are_forwarded_to_the_host_resolver(controller, spaces, servers, host):
    controller.create_network("app")
    c1 = spaces.add("c1")
    controller.connect("app", A, spaces.path(c1), "web")
    servers._start(["ip", "netns", "exec", host["outside"], *UPSTREAM])
    assert probe("dns", "example.org", ns=c1) == "192.0.2.80"


UPSTREAM = [
    "python3",
    "-c",
    """
import socket
from dnslib import DNSRecord, RR, QTYPE, A
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 53))
while True:
    data, peer = s.recvfrom(512); r = DNSRecord.parse(data).reply()
    r.add_answer(RR(r.q.qname, QTYPE.A, rdata=A("192.0.2.80"))); s.sendto(r.pack(), peer)
""",
]


def test_networks_are_isolated_and_reach_outside_through_nat(controller, spaces, servers, host):
    controller.create_network("one", subnet="10.81.0.0/24")
    controller.create_network("two", subnet="10.82.0.0/24")
    c1, c2 = spaces.add("c1"), spaces.add("c2")
    e1 = controller.connect("one", A, spaces.path(c1), "x")
    e2 = controller.connect("two", B, spaces.path(c2), "y")
    servers.http(c1, 80, "one")
    servers.http(c2, 80, "two")
    assert probe("tcp", e2.ip, 80, ns=c1).startswith("error")
    assert probe("tcp", e1.ip, 80, ns=c2).startswith("error")
    servers.udp_echo(host["outside"], 7000)
    # the outside sees the host's address, not the container's: outbound NAT
    assert probe("udp", OUTSIDE_IP, 7000, ns=c1) == "echo:ping from 10.250.0.2"


def test_internal_network_has_no_way_out(controller, spaces, servers, host):
    controller.create_network("private", internal=True)
    c1, c2 = spaces.add("c1"), spaces.add("c2")
    controller.connect("private", A, spaces.path(c1), "x")
    controller.connect("private", B, spaces.path(c2), "y")
    servers.udp_echo(host["outside"], 7000)
    servers.http(c1, 80, "inside")
    assert probe("udp", OUTSIDE_IP, 7000, ns=c1).startswith("error")
    assert probe("tcp", "x", 80, ns=c2) == "inside"


def test_connect_and_disconnect_live(controller, spaces, servers):
    controller.create_network("front", subnet="10.83.0.0/24")
    c1, c2 = spaces.add("c1"), spaces.add("c2")
    controller.connect("bridge", A, spaces.path(c1), "web")
    controller.connect("front", B, spaces.path(c2), "client")
    servers.http(c1, 80, "live")
    assert probe("tcp", "web", 80, ns=c2).startswith("error")
    ep = controller.connect("front", A, spaces.path(c1), "web")
    assert ep.ifname == "eth1"
    assert probe("tcp", "web", 80, ns=c2) == "live"
    with pytest.raises(Forbidden):
        controller.connect("front", A, spaces.path(c1), "web")
    controller.disconnect("front", A)
    assert probe("tcp", ep.ip, 80, ns=c2).startswith("error")
    assert "eth1" not in sh("ip", "-o", "link", ns=c1).stdout
    with pytest.raises(InvalidArgument, match="is not connected"):
        controller.disconnect("front", A)


def test_bad_requests_leave_nothing_behind(controller, spaces):
    controller.create_network("one", subnet="10.84.0.0/16")
    rules, links = ruleset(), sh("ip", "-o", "link").stdout
    with pytest.raises(Forbidden, match="Pool overlaps"):
        controller.create_network("two", subnet="10.84.3.0/24")
    with pytest.raises(Forbidden, match="Pool overlaps"):
        controller.create_network("three", subnet="10.250.0.0/16")  # the uplink's route
    with pytest.raises(Conflict, match="already exists"):
        controller.create_network("one")
    with pytest.raises(InvalidArgument, match="invalid CIDR"):
        controller.create_network("four", subnet="10.1.1/33")
    with pytest.raises(InvalidArgument, match="no matching subnet for gateway"):
        controller.create_network("five", subnet="10.85.0.0/24", gateway="10.86.0.1")
    assert ruleset() == rules and sh("ip", "-o", "link").stdout == links
    assert [n.name for n in controller.list()] == ["bridge", "host", "none", "one"]
    c1 = spaces.add("c1")
    controller.connect("one", A, spaces.path(c1), "x")
    with pytest.raises(Forbidden, match="has active endpoints"):
        controller.remove_network("one")
    with pytest.raises(Forbidden, match="pre-defined"):
        controller.remove_network("bridge")
    with pytest.raises(NoSuchNetwork, match="network nope not found"):
        controller.connect("nope", B, spaces.path(c1), "x")
    with pytest.raises(Forbidden, match="Address already in use"):
        controller.connect("one", B, spaces.path(c1), "y", ip="10.84.0.2")
    assert len(controller.store.endpoints(network_id=controller.get("one").id)) == 1
    controller.release(A)
    controller.remove_network("one")
    assert sorted(n.name for n in controller.list()) == ["bridge", "host", "none"]


def test_requested_ip_and_mac_and_in_use(controller, spaces):
    controller.create_network("fixed", subnet="10.86.0.0/24", labels={"keep": "no"})
    c1 = spaces.add("c1")
    ep = controller.connect("fixed", A, spaces.path(c1), "x", ip="10.86.0.50", mac="02:00:00:00:00:aa")
    assert (ep.ip, ep.mac) == ("10.86.0.50", "02:00:00:00:00:aa")
    assert "02:00:00:00:00:aa" in sh("ip", "link", "show", "eth0", ns=c1).stdout
    assert "10.86.0.50/24" in sh("ip", "-o", "addr", ns=c1).stdout
    assert controller.in_use(controller.get("fixed").id)
    controller.release(A)
    assert not controller.in_use(controller.get("fixed").id)
    controller.remove_network("fixed")

"""Published ports, end to end in a test-owned host namespace."""

import socket

import pytest

from dockyard.errors import Conflict
from dockyard.network.portspec import PortSpec, parse_port_bindings
from tests.network.harness import HOST_IP, probe, published, ruleset, sh

pytestmark = pytest.mark.root
CID, CID2 = "a" * 64, "b" * 64


def test_host_reaches_published_port_on_every_address(controller, spaces, servers):
    c1 = spaces.add("c1")
    controller.connect("bridge", CID, spaces.path(c1), "web")
    servers.http(c1, 80, "hello")
    assert controller.publish(CID, published("8080:80"))[0].host_port == 8080
    for address in ("127.0.0.1", "0.0.0.0", HOST_IP):
        assert probe("tcp", address, 8080) == "hello", address


def test_udp_random_port_and_publish_all(controller, spaces, servers):
    c1 = spaces.add("c1")
    ep = controller.connect("bridge", CID, spaces.path(c1), "dns")
    servers.udp_echo(c1, 5300)
    servers.http(c1, 80, "all")
    specs = published("5300/udp") + parse_port_bindings({}, ["80/tcp"], publish_all=True)
    bindings = {b.key: b for b in controller.publish(CID, specs)}
    udp, tcp = bindings["5300/udp"].host_port, bindings["80/tcp"].host_port
    assert udp >= 1024 and tcp >= 1024
    assert probe("udp", "127.0.0.1", udp).startswith("echo:ping from ")
    assert probe("udp", HOST_IP, udp).startswith("echo:ping")
    assert probe("tcp", "127.0.0.1", tcp) == "all"
    settings = controller.network_settings(CID, exposed=("80/tcp",))
    assert settings["Ports"]["80/tcp"] == [{"HostIp": "0.0.0.0", "HostPort": str(tcp)}]
    assert settings["IPAddress"] == ep.ip and settings["Networks"]["bridge"]["MacAddress"] == ep.mac


def test_other_container_reaches_published_port(controller, spaces, servers):
    c1, c2 = spaces.add("c1"), spaces.add("c2")
    controller.connect("bridge", CID, spaces.path(c1), "web")
    ep2 = controller.connect("bridge", CID2, spaces.path(c2), "client")
    servers.http(c1, 80, "hairpin")
    controller.publish(CID, published("8080:80"))
    assert probe("tcp", HOST_IP, 8080, ns=c2) == "hairpin"
    assert probe("tcp", ep2.gateway, 8080, ns=c2) == "hairpin"
    assert probe("tcp", HOST_IP, 8080, ns=c1) == "hairpin"  # the container itself, through the host


def test_port_taken_is_refused_and_nothing_is_left(controller, spaces, servers):
    c1 = spaces.add("c1")
    controller.connect("bridge", CID, spaces.path(c1), "web")
    before = ruleset()
    squatter = socket.socket()
    squatter.bind(("0.0.0.0", 0))
    squatter.listen()
    taken = squatter.getsockname()[1]
    try:
        with pytest.raises(Conflict, match=f"Bind for 0.0.0.0:{taken} failed: port is already allocated"):
            controller.publish(CID, [PortSpec(81, "tcp", "", 18081), PortSpec(80, "tcp", "", taken)])
    finally:
        squatter.close()
    assert ruleset() == before
    assert controller.bindings(CID) == []
    probe_sock = socket.socket()
    probe_sock.bind(("0.0.0.0", 18081))  # the first port was given back
    probe_sock.close()
    controller.publish(CID, published("18082:80"))
    with pytest.raises(Conflict, match="port is already allocated"):
        controller.publish(CID, published("18082:80"))


def test_release_removes_rules_and_interfaces(controller, spaces, servers):
    baseline = ruleset()
    links_before = sh("ip", "-o", "link").stdout.count("\n")
    c1 = spaces.add("c1")
    controller.connect("bridge", CID, spaces.path(c1), "web")
    servers.http(c1, 80, "x")
    controller.publish(CID, published("127.0.0.1:8080:80", "9090:80"))
    assert any("8080" in line for line in ruleset())
    controller.release(CID)
    assert ruleset() == baseline
    assert sh("ip", "-o", "link").stdout.count("\n") == links_before
    assert sh("ip", "-o", "link", ns=c1).stdout.count("\n") == 1  # only lo stays in the container
    assert probe("tcp", "127.0.0.1", 8080).startswith("error")
    controller.connect("bridge", CID2, spaces.path(c1), "again")
    assert controller.publish(CID2, published("8080:80"))[0].host_port == 8080

import pytest

from dockyard.errors import InvalidArgument
from dockyard.network.hosts import HostEntry, parse_extra_host, parse_hosts, render_hosts
from dockyard.network.resolvconf import (
    ResolvConf,
    container_resolv_conf,
    parse_resolv_conf,
    render_resolv_conf,
    upstream_servers,
)

HOST_RESOLV = """# generated
nameserver 127.0.0.53
nameserver 10.0.0.2 # site
search example.com corp.example
options edns0 trust-ad
"""


def test_hosts_render_parse_roundtrip():
    text = render_hosts("abc123", ["172.18.0.2"], [parse_extra_host("db:10.0.0.5")], domainname="example.com")
    entries = parse_hosts(text)
    assert entries[0] == HostEntry("127.0.0.1", ("localhost",))
    assert HostEntry("10.0.0.5", ("db",)) in entries
    assert entries[-1] == HostEntry("172.18.0.2", ("abc123.example.com", "abc123"))
    assert render_hosts("x").count("\n") == 6


def test_extra_host_forms():
    assert parse_extra_host("gw:host-gateway", "172.18.0.1") == HostEntry("172.18.0.1", ("gw",))
    assert parse_extra_host("v6:[::1]") == HostEntry("::1", ("v6",))
    assert parse_extra_host("a=10.1.1.1") == HostEntry("10.1.1.1", ("a",))
    for bad in ("nocolon", "x:999.1.1.1", ":1.1.1.1"):
        with pytest.raises(InvalidArgument):
            parse_extra_host(bad)


def test_resolv_conf_rules():
    host = parse_resolv_conf(HOST_RESOLV)
    assert host == ResolvConf(("127.0.0.53", "10.0.0.2"), ("example.com", "corp.example"), ("edns0", "trust-ad"))
    bridge = container_resolv_conf(host)
    assert bridge.nameservers == ("10.0.0.2",)
    assert container_resolv_conf(parse_resolv_conf("nameserver 127.0.0.1\n")).nameservers == ("8.8.8.8", "8.8.4.4")
    user = container_resolv_conf(host, dns_search=["svc"], embedded=True)
    assert render_resolv_conf(user) == "nameserver 127.0.0.11\nsearch svc\noptions ndots:0 edns0 trust-ad\n"
    assert container_resolv_conf(host, dns=["1.1.1.1"]).nameservers == ("1.1.1.1",)
    assert upstream_servers(host) == ("127.0.0.53", "10.0.0.2")
    assert upstream_servers(host, ["9.9.9.9"]) == ("9.9.9.9",)

import pytest

from dockyard.errors import InvalidArgument
from dockyard.network.portspec import (
    PortBinding,
    PortSpec,
    parse_port_bindings,
    port_lines,
    ports_json,
)
from dockyard.portspec import parse_port_specs


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("80", [PortSpec(80)]),
        ("8080:80", [PortSpec(80, "tcp", "", 8080)]),
        ("5432:5432", [PortSpec(5432, "tcp", "", 5432)]),
        ("127.0.0.1:8080:80", [PortSpec(80, "tcp", "127.0.0.1", 8080)]),
        ("127.0.0.1::80", [PortSpec(80, "tcp", "127.0.0.1", 0)]),
        ("53:53/udp", [PortSpec(53, "udp", "", 53)]),
        ("80/TCP", [PortSpec(80)]),
        ("[::1]:8080:80", [PortSpec(80, "tcp", "::1", 8080)]),
        ("8000-8001:80-81", [PortSpec(80, "tcp", "", 8000), PortSpec(81, "tcp", "", 8001)]),
        ("8000-8010:80", [PortSpec(80, "tcp", "", 8000, 8010)]),
        ("80-82", [PortSpec(80), PortSpec(81), PortSpec(82)]),
    ],
)
def test_a_publish_flag_arrives_as_these_specs(raw, expected):
    """`-p` parsed by the CLI into PortBindings, then read by the network package."""
    assert parse_port_bindings(parse_port_specs([raw])[1]) == expected


def test_port_bindings_and_publish_all():
    specs = parse_port_bindings(
        {"80/tcp": [{"HostIp": "", "HostPort": "8080"}], "53/udp": None, "443/tcp": [{"HostPort": "9000-9010"}]},
        exposed=["80/tcp", "5432/tcp", "53/udp"],
        publish_all=True,
    )
    assert specs == [
        PortSpec(80, "tcp", "", 8080),
        PortSpec(53, "udp"),
        PortSpec(443, "tcp", "", 9000, 9010),
        PortSpec(5432),
    ]
    with pytest.raises(InvalidArgument, match='^invalid port specification: "nope"$'):
        parse_port_bindings({"80/tcp": [{"HostPort": "nope"}]})
    with pytest.raises(InvalidArgument, match='^invalid port specification: "abc"$'):
        parse_port_bindings({"abc/tcp": [{}]})


def test_ports_json_and_port_lines():
    bindings = [
        PortBinding(80, "tcp", "0.0.0.0", 8080),
        PortBinding(80, "tcp", "127.0.0.1", 8081),
        PortBinding(53, "udp", "0.0.0.0", 5353),
    ]
    assert ports_json(bindings, ["80/tcp", "9000/tcp"]) == {
        "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}, {"HostIp": "127.0.0.1", "HostPort": "8081"}],
        "9000/tcp": None,
        "53/udp": [{"HostIp": "0.0.0.0", "HostPort": "5353"}],
    }
    assert port_lines(bindings) == ["53/udp -> 0.0.0.0:5353", "80/tcp -> 0.0.0.0:8080", "80/tcp -> 127.0.0.1:8081"]
    assert port_lines(bindings, "80") == ["80/tcp -> 0.0.0.0:8080", "80/tcp -> 127.0.0.1:8081"]

"""The one `-p` / `--expose` parser (docker's nat.ParsePortSpec and ParsePortSpecs)."""

import pytest

from dockyard.errors import InvalidArgument
from dockyard.portspec import parse_expose, parse_port_spec, parse_port_specs, parse_range, split_proto


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("80", [("80/tcp", "", "")]),
        ("8080:80", [("80/tcp", "", "8080")]),
        ("127.0.0.1::80", [("80/tcp", "127.0.0.1", "")]),
        ("[::1]:7000:7000", [("7000/tcp", "::1", "7000")]),
        ("::1:7000:7000", [("7000/tcp", "::1", "7000")]),
        ("53:53/UDP", [("53/udp", "", "53")]),
        ("9000-9001:9000-9001", [("9000/tcp", "", "9000"), ("9001/tcp", "", "9001")]),
        ("8000-8010:80", [("80/tcp", "", "8000-8010")]),  # the daemon picks a free one in the range
        ("80-81", [("80/tcp", "", ""), ("81/tcp", "", "")]),
    ],
)
def test_parse_port_spec(raw, expected):
    assert parse_port_spec(raw) == expected


@pytest.mark.parametrize(
    "raw, message",
    [
        ("abc", "invalid containerPort: abc"),
        ("80:abc", "invalid containerPort: abc"),
        ("8080:0", "invalid containerPort: 0"),
        ("70000", "invalid containerPort: 70000"),
        ("90-80", "invalid containerPort: 90-80"),
        ("x:80", "invalid hostPort: x"),
        ("80/icmp", "invalid proto: icmp"),
        ("1.2.3:80:80", "invalid IP address: 1.2.3"),
        ("8000-8002:80-81", "invalid ranges specified for container and host Ports: 80-81 and 8000-8002"),
        ("8000:80-81", "invalid ranges specified for container and host Ports: 80-81 and 8000"),
        ("/tcp", "no port specified: /tcp<empty>"),
    ],
)
def test_bad_port_spec_has_dockers_message(raw, message):
    with pytest.raises(InvalidArgument) as raised:
        parse_port_spec(raw)
    assert str(raised.value) == message


def test_parse_port_specs_gives_exposed_ports_and_bindings():
    exposed, bindings = parse_port_specs(["8080:80", "127.0.0.1:8081:80", "53/udp"])
    assert exposed == {"80/tcp": {}, "53/udp": {}}
    assert bindings == {
        "80/tcp": [{"HostIp": "", "HostPort": "8080"}, {"HostIp": "127.0.0.1", "HostPort": "8081"}],
        "53/udp": [{"HostIp": "", "HostPort": ""}],
    }


def test_parse_expose():
    assert parse_expose("7000-7001") == ["7000/tcp", "7001/tcp"]
    assert parse_expose("99/udp") == ["99/udp"]
    with pytest.raises(InvalidArgument, match="invalid port format for --expose: 1:2"):
        parse_expose("1:2")
    with pytest.raises(InvalidArgument, match="invalid range format for --expose: x"):
        parse_expose("x")


def test_split_proto_and_range():
    assert split_proto("80") == ("80", "tcp")
    assert split_proto("80/SCTP") == ("80", "sctp")
    assert parse_range("8000-8010") == (8000, 8010)
    with pytest.raises(ValueError):
        parse_range("8010-8000")

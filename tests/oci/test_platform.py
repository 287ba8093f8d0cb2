"""Platform parsing, normalisation and matching (containerd's rules)."""

import pytest

from dockyard.errors import InvalidArgument
from dockyard.oci.platform import Platform, PlatformMatcher, host_platform, parse_platform

PARSE = [
    ("linux/amd64", "linux/amd64"),
    ("linux/x86_64", "linux/amd64"),
    ("linux/arm64/v8", "linux/arm64"),
    ("linux/aarch64", "linux/arm64"),
    ("linux/arm", "linux/arm/v7"),
    ("linux/armhf", "linux/arm/v7"),
    ("linux/armel", "linux/arm/v6"),
    ("linux/arm/6", "linux/arm/v6"),
    ("linux/i686", "linux/386"),
    ("Linux/AMD64", "linux/amd64"),
    ("windows/amd64", "windows/amd64"),
]


@pytest.mark.parametrize("spec,expected", PARSE)
def test_parse_normalises(spec, expected):
    assert str(parse_platform(spec)) == expected


@pytest.mark.parametrize("spec", ["", "linux/", "/amd64", "a/b/c/d"])
def test_parse_rejects_malformed(spec):
    with pytest.raises(InvalidArgument, match="unknown operating system or architecture"):
        parse_platform(spec)


def test_bare_os_or_arch_takes_the_rest_from_the_host():
    host = host_platform()
    assert parse_platform("linux") == host
    assert parse_platform("arm64") == Platform(host.os, "arm64")


@pytest.mark.parametrize(
    "machine,expected",
    [
        ("x86_64", "linux/amd64"),
        ("aarch64", "linux/arm64"),
        ("armv7l", "linux/arm/v7"),
        ("armv6l", "linux/arm/v6"),
        ("i686", "linux/386"),
    ],
)
def test_host_platform_from_uname(machine, expected):
    assert str(host_platform(machine)) == expected


# wanted | candidate | rank (None: no match)
MATCH = [
    ("linux/amd64", "linux/amd64", 0),
    ("linux/amd64", "linux/386", 1),
    ("linux/amd64", "linux/arm64", None),
    ("linux/amd64", "windows/amd64", None),
    ("linux/amd64/v3", "linux/amd64/v2", 1),
    ("linux/amd64/v3", "linux/amd64", 2),
    ("linux/amd64", "linux/amd64/v2", None),
    ("linux/arm64", "linux/arm64/v8", 0),
    ("linux/arm64", "linux/arm/v8", 1),
    ("linux/arm64", "linux/arm/v7", 2),
    ("linux/arm64", "linux/arm/v5", 4),
    ("linux/arm/v7", "linux/arm/v6", 1),
    ("linux/arm/v7", "linux/arm/v8", None),
    ("linux/arm/v6", "linux/arm", None),
]


@pytest.mark.parametrize("wanted,candidate,rank", MATCH)
def test_matching_ranks_like_containerd(wanted, candidate, rank):
    assert PlatformMatcher(parse_platform(wanted)).rank(parse_platform(candidate)) == rank


def test_best_prefers_exact_then_first():
    matcher = PlatformMatcher(parse_platform("linux/arm64"))
    platforms = [parse_platform(p) for p in ("linux/amd64", "linux/arm/v7", "linux/arm64", "linux/arm64")]
    assert matcher.best(platforms) == 2
    assert matcher.best(platforms[:2]) == 1
    assert matcher.best(platforms[:1]) is None


def test_json_round_trip():
    data = {"architecture": "arm64", "os": "linux", "variant": "v8", "os.version": "1"}
    assert Platform.from_json(data).to_json() == data

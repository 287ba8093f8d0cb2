"""Human sizes, durations, truncation and Go-style parsing, as docker prints and accepts them."""

import pytest

from dockyard.errors import InvalidArgument
from dockyard.timestamps import api_timestamp
from dockyard.units import (
    ellipsis,
    go_duration_ns,
    go_quote,
    human_duration,
    human_size,
    parse_go_duration,
    ram_in_bytes,
    truncate_id,
)


@pytest.mark.parametrize(
    "size,precision,expected",
    [
        (0, 3, "0B"),
        (999, 3, "999B"),
        (1000, 3, "1kB"),
        (4_261_000, 3, "4.26MB"),
        (4_261_000, 4, "4.261MB"),
        (1_234_567_890, 3, "1.23GB"),
        (72_800_000, 3, "72.8MB"),
        (1_500, 4, "1.5kB"),
        (2 * 10**12, 3, "2TB"),
        (10**27, 3, "1e+03YB"),
    ],
)
def test_human_size(size, precision, expected):
    assert human_size(size, precision) == expected


@pytest.mark.parametrize(
    "seconds,expected",
    [
        (0.5, "Less than a second"),
        (1, "1 second"),
        (3, "3 seconds"),
        (59, "59 seconds"),
        (60, "About a minute"),
        (119, "About a minute"),
        (120, "2 minutes"),
        (59 * 60, "59 minutes"),
        (3600, "About an hour"),
        (5399, "About an hour"),
        (5400, "2 hours"),
        (47 * 3600, "47 hours"),
        (48 * 3600, "2 days"),
        (13 * 86400, "13 days"),
        (14 * 86400, "2 weeks"),
        (59 * 86400, "8 weeks"),
        (60 * 86400, "2 months"),
        (729 * 86400, "24 months"),
        (730 * 86400, "2 years"),
    ],
)
def test_human_duration(seconds, expected):
    assert human_duration(seconds) == expected


@pytest.mark.parametrize(
    "text,width,expected",
    [
        ("short", 20, "short"),
        ("x" * 20, 20, "x" * 20),
        ("/docker-entrypoint.sh postgres", 20, "/docker-entrypoint.…"),
    ],
)
def test_ellipsis(text, width, expected):
    assert ellipsis(text, width) == expected
    assert len(ellipsis(text, width)) <= width


def test_truncate_id_and_quote():
    assert truncate_id("sha256:" + "ab" * 32) == "abababababab"
    assert truncate_id("0123456789abcdef") == "0123456789ab"
    assert go_quote('sh -c "echo"\n') == '"sh -c \\"echo\\"\\n"'


@pytest.mark.parametrize(
    "text,expected",
    [
        ("512m", 512 * 1024**2),
        ("1g", 1024**3),
        ("1024", 1024),
        ("1.5k", 1536),
        ("64MiB", 64 * 1024**2),
        ("2GB", 2 * 1024**3),
    ],
)
def test_ram_in_bytes(text, expected):
    assert ram_in_bytes(text) == expected


@pytest.mark.parametrize("text", ["", "lots", "12x", "-1m"])
def test_ram_in_bytes_rejects(text):
    with pytest.raises(InvalidArgument, match="invalid size"):
        ram_in_bytes(text)


@pytest.mark.parametrize(
    "text,seconds",
    [
        ("10s", 10),
        ("1h30m", 5400),
        ("500ms", 0.5),
        ("1.5m", 90),
        (".5s", 0.5),
        ("-5m", -300),
        ("+1h", 3600),
        ("10us", 1e-5),
        ("10μs", 1e-5),
        ("0", 0),
    ],
)
def test_go_duration(text, seconds):
    assert parse_go_duration(text) == pytest.approx(seconds)


def test_go_duration_in_nanoseconds_is_exact():
    assert go_duration_ns("1h0m0.000000001s") == 3600 * 10**9 + 1
    assert go_duration_ns("250ms") == 250_000_000


@pytest.mark.parametrize("text", ["", "10", "1x", "s10", "h", "5d", "1h 2m", "m5", "-"])
def test_go_duration_rejects(text):
    with pytest.raises(InvalidArgument):
        parse_go_duration(text)


def test_api_timestamps():
    assert api_timestamp("10m", now=1000.0) == "400.000000000"
    assert api_timestamp("1700000000") == "1700000000"
    assert api_timestamp("2024-01-02T03:04:05Z") == "1704164645.000000000"
    with pytest.raises(InvalidArgument, match="failed to parse value as time or duration"):
        api_timestamp("yesterday")

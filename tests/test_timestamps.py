"""The one RFC3339Nano formatter and parser (Go's time.Time as Docker marshals it)."""

import time

import pytest

from dockyard.timestamps import ZERO_TIME, now_rfc3339, now_rfc3339_seconds, parse_rfc3339_nano, rfc3339_nano


def test_format_trims_trailing_zeros_as_go_does():
    assert rfc3339_nano(0) == "1970-01-01T00:00:00Z"
    assert rfc3339_nano(1_500_000_000_123_400_000) == "2017-07-14T02:40:00.1234Z"
    assert rfc3339_nano(1_500_000_000_000_000_001) == "2017-07-14T02:40:00.000000001Z"


def test_now_has_nanosecond_precision_and_round_trips():
    before = time.time_ns()
    stamp = now_rfc3339()
    after = time.time_ns()
    assert stamp.endswith("Z")
    assert before <= parse_rfc3339_nano(stamp) <= after


def test_seconds_form_has_no_fraction():
    before = time.time_ns() // 1_000_000_000 * 1_000_000_000
    stamp = now_rfc3339_seconds()
    assert "." not in stamp and stamp.endswith("Z")
    assert before <= parse_rfc3339_nano(stamp) <= time.time_ns()


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("2017-07-14T02:40:00.1234Z", 1_500_000_000_123_400_000),
        ("2017-07-14T02:40:00Z", 1_500_000_000_000_000_000),
        ("2017-07-14T04:40:00.5+02:00", 1_500_000_000_500_000_000),
        ("2017-07-14T00:40:00-02:00", 1_500_000_000_000_000_000),
        ("2017-07-14T02:40:00.1234567891Z", 1_500_000_000_123_456_789),  # digits past 9 dropped
        (ZERO_TIME, 0),
        ("", 0),
    ],
)
def test_parse(text, ns):
    assert parse_rfc3339_nano(text) == ns


@pytest.mark.parametrize(
    "text",
    [
        "yesterday",
        "2017-07-14",
        "2017-07-14T02:40:00",
        "2017-07-14T02:40:00.Z",
        "2024-02-30T00:00:00Z",  # no such day
        "2023-13-01T00:00:00Z",
        "2017-07-14T24:00:00Z",
        "2017-07-14T02:60:00Z",
    ],
)
def test_parse_refuses_what_is_not_rfc3339(text):
    with pytest.raises(ValueError):
        parse_rfc3339_nano(text)


def test_parse_inverts_format_across_the_calendar():
    """Leap years, month ends, the epoch and 2100 (no leap day) all come back to the same ns."""
    for ns in (0, 951_782_400_123_456_789, 1_709_164_799_999_999_999, 4_107_542_400_000_000_001):
        assert parse_rfc3339_nano(rfc3339_nano(ns)) == ns
    for step in range(0, 4_000_000_000, 7_654_321):
        assert parse_rfc3339_nano(rfc3339_nano(step * 1_000_000_001)) == step * 1_000_000_001


def test_api_timestamp_takes_what_dockers_since_and_until_take():
    from dockyard.errors import InvalidArgument
    from dockyard.timestamps import api_timestamp

    assert api_timestamp("10m", now=1000.0) == "400.000000000"
    assert api_timestamp("1700000000.5") == "1700000000.5"
    assert api_timestamp("2017-07-14T04:40:00+02:00") == "1500000000.000000000"
    with pytest.raises(InvalidArgument, match='failed to parse value as time or duration: "soon"'):
        api_timestamp("soon")
    for not_unix in ("1e9", "nan", "inf"):  # docker's parseTimestamp takes digits[.digits] only
        with pytest.raises(InvalidArgument):
            api_timestamp(not_unix)

"""Prune filters (engine/prune.py): `until` in each of Docker's forms, `label` and `label!`."""

from __future__ import annotations

import pytest

from dockyard.engine.prune import cutoff, labels_hold, parse_duration, prune_match, timestamp
from dockyard.errors import InvalidArgument

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("24h", 86400), ("1h30m", 5400), ("250ms", 0.25), ("1.5s", 1.5), ("-5m", -300), ("10us", 1e-5)],
)
def test_go_durations(value, seconds):
    assert parse_duration(value) == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["", "h", "5", "5d", "1h 2m", "m5"])
def test_not_durations(value):
    assert parse_duration(value) is None


def test_until_forms():
    assert timestamp("24h", NOW) == NOW - 86400
    assert timestamp("1699999999", NOW) == 1699999999
    assert timestamp("1699999999.25", NOW) == 1699999999.25
    assert timestamp("2023-11-14T22:13:20Z", NOW) == NOW
    assert timestamp("2023-11-14T22:13:20", NOW) == NOW  # no zone: UTC
    assert timestamp("2023-11-14", NOW) == NOW - (22 * 3600 + 13 * 60 + 20)


def test_a_bad_until_is_dockerds_400():
    with pytest.raises(InvalidArgument, match='failed to parse value as time or duration: "bogus"'):
        timestamp("bogus", NOW)


def test_until_24h_keeps_what_is_younger():
    filters = {"until": ["24h"]}
    assert not prune_match({}, NOW - 3600, filters, NOW)  # an hour old: kept
    assert prune_match({}, NOW - 2 * 86400, filters, NOW)  # two days old: pruned
    assert prune_match({}, NOW, {}, NOW)  # no until: everything
    assert cutoff({"until": ["1h", "2h"]}, NOW) == NOW - 7200  # the earliest wins


def test_label_and_not_label():
    labels = {"env": "dev", "keep": ""}
    assert labels_hold(labels, {"label": ["env"], "label!": ["prod"]})
    assert labels_hold(labels, {"label": ["env=dev"]})
    assert not labels_hold(labels, {"label": ["env=prod"]})
    assert not labels_hold(labels, {"label!": ["keep"]})
    assert not labels_hold(labels, {"label!": ["env=dev"]})
    assert labels_hold(labels, {"label!": ["env=prod"]})

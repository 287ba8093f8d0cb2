"""daemon.json as the daemon reads it: a key it does not honour is refused, never ignored."""

from __future__ import annotations

import subprocess

import pytest

from dockyard.daemon import load_settings
from dockyard.errors import InvalidArgument
from tests.e2e.daemon import DOCKYARD


def write(tmp_path, text: str):
    path = tmp_path / "daemon.json"
    path.write_text(text)
    return path


def test_honoured_keys_are_read(tmp_path):
    path = write(tmp_path, '{"bip": "10.9.0.1/24", "mtu": 1400, "bridge": "none", "registry-mirrors": []}')
    assert load_settings(path) == {"bip": "10.9.0.1/24", "mtu": 1400, "bridge": "none", "registry-mirrors": []}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"ipv6": true, "log-driver": "syslog"}',
            "don't match any configuration option dockyard honours: ipv6, log-driver",
        ),
        ('{"bogus-key": 1}', "honours: bogus-key"),
        ('{"bridge": "br0"}', "bridge 'br0': the default network has a bridge of dockyard's own"),
        ("{nope", "unable to configure the daemon with file"),
        ("[1]", "not a JSON object"),
    ],
)
def test_what_would_be_dropped_is_refused(tmp_path, text, message):
    with pytest.raises(InvalidArgument, match=message):
        load_settings(write(tmp_path, text))


@pytest.mark.root
def test_the_daemon_does_not_start_with_an_unhonoured_key(tmp_path):
    config = write(tmp_path, '{"userns-remap": "default"}')
    result = subprocess.run(
        [DOCKYARD, "daemon", "--data-root", str(tmp_path / "root"), "-H", f"unix://{tmp_path}/d.sock",
         "--config-file", str(config)],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode != 0
    assert "don't match any configuration option dockyard honours: userns-remap" in result.stderr
    assert not (tmp_path / "d.sock").exists()

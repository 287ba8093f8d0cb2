"""Pure tests of Docker's detach-key syntax and the stdin scanner both ends use."""

import pytest

from dockyard import detachkeys
from dockyard.errors import InvalidArgument


@pytest.mark.parametrize("spec,keys", [(None, b"\x10\x11"), ("ctrl-a,x", b"\x01x"), ("ctrl-@,ctrl-_", b"\x00\x1f")])
def test_detach_keys(spec, keys):
    assert detachkeys.parse(spec) == keys


def test_bad_detach_keys():
    with pytest.raises(InvalidArgument, match="Unknown character"):
        detachkeys.parse("ctrl-")


def test_scanner_holds_a_partial_sequence_until_the_next_byte_decides():
    scanner = detachkeys.Scanner(b"\x10\x11")
    assert scanner.feed(b"ab\x10") == (b"ab", False)
    assert scanner.feed(b"c") == (b"\x10c", False)
    assert scanner.feed(b"z\x10") == (b"z", False)
    assert scanner.feed(b"\x11rest") == (b"", True)


def test_scanner_with_one_key():
    assert detachkeys.Scanner(b"\x18").feed(b"ab\x18cd") == (b"ab", True)


def test_the_cli_takes_detach_keys_from_docker_config(tmp_path, monkeypatch):
    from dockyard.cli import attachment

    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert attachment.configured_detach_keys() is None
    (tmp_path / "config.json").write_text('{"detachKeys": "ctrl-x,ctrl-y"}')
    assert attachment.configured_detach_keys() == "ctrl-x,ctrl-y"
    assert detachkeys.parse(attachment.configured_detach_keys()) == b"\x18\x19"

"""The command server's pure parts: the launcher's request, the verbs it leaves to the entry
point, and the stamp that notices its code changing (the whole path: tests/e2e/test_launcher.py)."""

from __future__ import annotations

import os
import signal

import pytest

from dockyard.cli.commandserver import CodeStamp, needs_own_process, parse_request


def packet(*fields: bytes) -> bytes:
    return b"".join(field + b"\0" for field in fields)


def test_a_request_carries_umask_signals_argv_and_environment():
    data = packet(
        b"dockyard-cli 3", b"27", b"3", b"4000", b"3", b"dockyard", b"ps", b"-a", b"3", b"A=1", b"B=x=y", b"A=2"
    )
    request = parse_request(data)
    assert request.umask == 0o27
    assert request.ignored == {signal.SIGHUP, signal.SIGINT} and request.blocked == {signal.SIGTERM}
    assert request.argv == ["dockyard", "ps", "-a"]
    assert request.env == {"A": "1", "B": "x=y"}  # a repeated name: its first value, as getenv reads it


def test_undecodable_bytes_survive_as_surrogates():
    request = parse_request(packet(b"dockyard-cli 3", b"22", b"0", b"0", b"2", b"dockyard", b"\xff", b"0"))
    assert os.fsencode(request.argv[1]) == b"\xff"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        packet(b"dockyard-cli 2", b"22", b"0", b"0", b"1", b"dockyard", b"0"),  # another protocol
        packet(b"dockyard-cli 3", b"22", b"0", b"0", b"3", b"dockyard", b"0"),  # argv cut short
        packet(b"dockyard-cli 3", b"22", b"0", b"0", b"1", b"dockyard", b"2", b"A=1"),  # env cut short
        packet(b"dockyard-cli 3", b"22", b"0", b"0", b"1", b"dockyard", b"0", b"extra"),  # trailing field
        packet(b"dockyard-cli 3", b"9x", b"0", b"0", b"1", b"dockyard", b"0"),  # umask not octal
        packet(b"dockyard-cli 3", b"22", b"zz", b"0", b"1", b"dockyard", b"0"),  # signals not hex
        packet(b"dockyard-cli 3", b"22", b"0", b"0", b"0", b"0"),  # no argv[0]
        packet(b"dockyard-cli 3", b"22", b"0", b"0", b"1", b"dockyard", b"0")[:-1],  # not NUL-terminated
    ],
)
def test_a_malformed_request_is_refused(data):
    with pytest.raises(ValueError):
        parse_request(data)


@pytest.mark.parametrize(
    ("argv", "own"),
    [
        (["dockyard", "daemon"], True),
        (["dockyard", "-H", "unix:///x", "daemon", "--data-root", "/d"], True),
        (["dockyard", "registry", "serve"], True),
        (["dockyard", "login", "localhost:5000"], True),
        (["dockyard", "--bogus"], True),  # the entry point prints the usage error
        (["dockyard", "ps"], False),
        (["dockyard", "-D", "run", "--rm", "busybox", "daemon"], False),
        (["dockyard"], False),
    ],
)
def test_verbs_that_need_a_process_of_their_own(argv, own):
    assert needs_own_process(argv) is own


def test_the_stamp_notices_a_changed_or_removed_module(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("x = 1\n")
    stamp = CodeStamp()
    assert not stamp.changed()
    stamp.files[str(module)] = stamp._stat(str(module))
    assert not stamp.changed()
    module.write_text("x = 22\n")
    assert stamp.changed()
    stamp.files[str(module)] = stamp._stat(str(module))
    module.unlink()
    assert stamp.changed()


def test_the_stamp_covers_the_loaded_dockyard_modules_and_the_import_path():
    stamp = CodeStamp()
    assert any(path.endswith(os.path.join("dockyard", "cli", "commandserver.py")) for path in stamp.files)
    assert any(os.path.isdir(path) for path in stamp.files)

"""The runtimes containers may name (daemon.json `runtimes`, `default-runtime`) and the pure
parts of driving an external one (runtime/runtimes.py, runtime/external.py)."""

from __future__ import annotations

import json

import pytest

from dockyard.errors import InvalidArgument
from dockyard.runtime import external
from dockyard.runtime.runtimes import OWN, OciRuntimes

ON_PATH = {"runc": "/usr/sbin/runc"}


def test_runc_and_crun_are_known_when_on_path_and_daemon_json_adds_others():
    runtimes = OciRuntimes.from_daemon_json(
        {"runtimes": {"traced": {"path": "/opt/runc", "runtimeArgs": ["--debug"]}}}, ON_PATH.get
    )
    assert runtimes.names() == [OWN, "runc", "traced"] and runtimes.default == OWN
    assert runtimes.command("") is None and runtimes.command(OWN) is None
    assert runtimes.command("runc") == ["/usr/sbin/runc"]
    assert runtimes.command("traced") == ["/opt/runc", "--debug"]
    with pytest.raises(InvalidArgument, match="^Unknown runtime specified crun$"):  # not on PATH here
        runtimes.command("crun")


def test_default_runtime_and_bad_entries():
    assert OciRuntimes.from_daemon_json({"default-runtime": "runc"}, ON_PATH.get).command("") == ["/usr/sbin/runc"]
    for settings, message in (
        ({"default-runtime": "nosuch"}, "Unknown runtime specified nosuch"),
        ({"runtimes": {OWN: {"path": "/x"}}}, "reserved"),
        ({"runtimes": {"x": {}}}, "a path is required"),
        ({"runtimes": {"x": {"path": "/x", "runtimeArgs": "--debug"}}}, "runtimeArgs must be a list"),
    ):
        with pytest.raises(InvalidArgument, match=message):
            OciRuntimes.from_daemon_json(settings, ON_PATH.get)


def test_the_bundle_gets_the_same_spec_with_an_absolute_cgroups_path():
    spec = {"process": {"args": ["true"]}, "linux": {"cgroupsPath": "dockyard/abc", "seccomp": {"x": 1}}}
    bundled = external.bundle_spec(spec, "abc")
    assert bundled["linux"] == {"cgroupsPath": "/dockyard/abc", "seccomp": {"x": 1}}
    assert bundled["process"] == spec["process"] and spec["linux"]["cgroupsPath"] == "dockyard/abc"
    assert external.bundle_spec({"linux": {}}, "abc")["linux"]["cgroupsPath"] == "/dockyard/abc"
    assert external.base_command(["/usr/sbin/runc", "--debug"], "/s") == [
        "/usr/sbin/runc",
        "--debug",
        "--root",
        "/s/runtime-state",
        "--log",
        "/s/runtime.log",
    ]


def test_the_runtimes_last_error_is_read_from_its_log(tmp_path):
    log = tmp_path / "runtime.log"
    assert external.last_error(str(log)) == ""
    lines = [{"level": "info", "msg": "starting"}, {"level": "error", "msg": 'exec: "nope": not found'}]
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert external.last_error(str(log)) == 'exec: "nope": not found'
    log.write_text("plain failure\n")
    assert external.last_error(str(log)) == "plain failure"

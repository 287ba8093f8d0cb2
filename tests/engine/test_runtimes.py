"""HostConfig.Runtime through the container service, over the fake runtime: the named OCI
runtime's command reaches the runtime's create, the default is recorded, what cannot run is
refused at create."""

from __future__ import annotations

import pytest

from dockyard.errors import InvalidArgument
from dockyard.runtime.runtimes import OciRuntimes


@pytest.fixture
def engine_with_runc(engine):
    engine.containers.runtimes = engine.containers.lifecycle.runtimes = OciRuntimes(
        commands={"runc": ["/usr/sbin/runc", "--debug"]}
    )
    return engine


def test_a_named_runtime_creates_the_task_and_the_default_is_recorded(engine_with_runc):
    engine = engine_with_runc
    engine.run("sleep", "100", name="under-runc", Runtime="runc")
    engine.run("sleep", "100", name="own")
    assert engine.runtime.oci_runtime(engine.state_dir("under-runc")) == ["/usr/sbin/runc", "--debug"]
    assert engine.runtime.oci_runtime(engine.state_dir("own")) is None
    assert engine.containers.inspect("under-runc")["HostConfig"]["Runtime"] == "runc"
    assert engine.containers.inspect("own")["HostConfig"]["Runtime"] == "dockyard"
    engine.containers.restart("under-runc", 1, None)  # each run goes through it again
    assert engine.runtime.oci_runtime(engine.state_dir("under-runc")) == ["/usr/sbin/runc", "--debug"]


@pytest.mark.parametrize(
    ("config", "host", "message"),
    [
        ({}, {"Runtime": "kata"}, "^Unknown runtime specified kata$"),
        ({"Tty": True}, {"Runtime": "runc"}, "a terminal .* not supported by dockyard with runtime runc"),
    ],
)
def test_what_cannot_run_is_refused_at_create(engine_with_runc, config, host, message):
    with pytest.raises(InvalidArgument, match=message):
        engine_with_runc.containers.create(None, {"Image": "busybox", "Cmd": ["true"], **config}, host, None)
    assert engine_with_runc.containers.all() == []


def test_inspect_reports_the_cgroup_namespace_the_task_gets(engine):
    """A container gets a cgroup namespace of its own unless it asks for the host's, and inspect
    says so (dockerd shares the host's on cgroup v1 hosts; dockyard never does by default)."""
    engine.run("sleep", "100", name="own")
    engine.run("sleep", "100", name="shared", CgroupnsMode="host")
    assert {"type": "cgroup"} in engine.runtime.spec(engine.state_dir("own"))["linux"]["namespaces"]
    assert engine.containers.inspect("own")["HostConfig"]["CgroupnsMode"] == "private"
    assert not any(
        ns["type"] == "cgroup" for ns in engine.runtime.spec(engine.state_dir("shared"))["linux"]["namespaces"]
    )
    assert engine.containers.inspect("shared")["HostConfig"]["CgroupnsMode"] == "host"

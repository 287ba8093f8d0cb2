"""HostConfig fields outside resources and security over the fakes: GroupAdd, Annotations,
ConsoleSize reach the task; StorageOpt, Isolation, DeviceRequests, Cgroup and a
foreign VolumeDriver are refused naming themselves; ContainerIDFile is kept as given."""

from __future__ import annotations

import pytest

from dockyard.errors import InvalidArgument, RuntimeFailure

REFUSED = {
    "StorageOpt": ({"size": "1G"}, "--storage-opt is supported only for overlay over xfs with 'pquota'"),
    "Isolation": ("hyperv", "Invalid isolation: \"hyperv\" - linux only supports 'default'"),
    "DeviceRequests": (
        [{"Driver": "nvidia", "Count": -1, "Capabilities": [["gpu"]]}],
        r'could not select device driver "nvidia" with capabilities: \[\[gpu\]\]',
    ),
    "Cgroup": ("container:other", "Cgroup: joining another container's cgroup is not supported"),
    "VolumeDriver": ("convoy", 'error looking up volume plugin convoy: plugin "convoy" not found'),
    "CpuRealtimePeriod": (1000000, "CpuRealtimePeriod/CpuRealtimeRuntime: real-time CPU scheduling"),
    "CpuRealtimeRuntime": (1000, "CpuRealtimePeriod/CpuRealtimeRuntime: real-time CPU scheduling"),
    "CpuCount": (1, "CpuCount: linux does not support CPU count"),
    "IOMaximumIOps": (100, "Invalid QoS settings: linux does not support configuration of maximum IOPs"),
    "IOMaximumBandwidth": (100, "Invalid QoS settings: linux does not support configuration of maximum bandwidth"),
}


@pytest.mark.parametrize("field", sorted(REFUSED))
def test_refused_fields_name_themselves_and_create_nothing(engine, field):
    value, message = REFUSED[field]
    with pytest.raises(InvalidArgument, match=message):
        engine.containers.create(None, {"Image": "busybox", "Cmd": ["true"]}, {field: value}, None)
    assert engine.containers.all() == []


def test_group_add_annotations_and_console_size_reach_the_task(engine):
    container_id = engine.containers.create(
        None,
        {"Image": "busybox", "Cmd": ["sleep", "100"], "Tty": True},
        {"GroupAdd": ["app", "4242"], "Annotations": {"org.example/team": "ops"}, "ConsoleSize": [33, 101]},
        None,
    )["Id"]
    engine.containers.start(container_id)
    spec = engine.runtime.spec(engine.state_dir(container_id))
    assert spec["process"]["user"]["additionalGids"] == [1000, 4242]
    assert spec["annotations"] == {"org.example/team": "ops"}
    assert engine.runtime.resizes(engine.state_dir(container_id))[0] == (33, 101)


def test_an_unknown_group_fails_the_start_in_dockerds_words(engine):
    container_id = engine.containers.create(
        None, {"Image": "busybox", "Cmd": ["sleep", "100"]}, {"GroupAdd": ["nosuchgroup"]}, None
    )["Id"]
    with pytest.raises(RuntimeFailure, match="Unable to find group nosuchgroup: no matching entries in group file"):
        engine.containers.start(container_id)


def test_container_id_file_is_kept_as_given_for_the_client(engine):
    container_id = engine.containers.create(
        None, {"Image": "busybox", "Cmd": ["true"]}, {"ContainerIDFile": "/x"}, None
    )
    assert engine.containers.inspect(container_id["Id"])["HostConfig"]["ContainerIDFile"] == "/x"

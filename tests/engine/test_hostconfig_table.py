"""Every HostConfig field of API 1.44 (the schema's table, from the spec): enforced, with the
test that fails without it; discarded with dockerd's own Warnings entry where this kernel
lacks it; or refused with a 400 naming it. None is accepted and dropped."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from dockyard.api import schema
from dockyard.errors import InvalidArgument
from tests.engine.harness import HOST_LIMITS
from tests.engine.test_hostfields import REFUSED

LIMITS = "tests/e2e/test_limits.py::"
ISOLATION = "tests/e2e/test_isolation.py::"
SECURITY = "tests/engine/test_security.py::"
NETWORKING = "tests/e2e/test_networking.py::"
ENFORCED = {
    # resources (this branch)
    "Memory": LIMITS + "test_a_memory_hog_is_oom_killed_and_reported",
    "MemorySwap": LIMITS + "test_update_memory_of_a_running_container",
    "MemoryReservation": LIMITS + "test_the_other_limits_reach_the_kernel",
    "MemorySwappiness": LIMITS + "test_the_other_limits_reach_the_kernel",
    "OomKillDisable": LIMITS + "test_the_other_limits_reach_the_kernel",
    "OomScoreAdj": LIMITS + "test_the_other_limits_reach_the_kernel",
    "NanoCpus": LIMITS + "test_cpus_half_holds_a_busy_loop_near_half_a_core",
    "CpuShares": LIMITS + "test_the_other_limits_reach_the_kernel",
    "CpuPeriod": LIMITS + "test_the_other_limits_reach_the_kernel",
    "CpuQuota": LIMITS + "test_the_other_limits_reach_the_kernel",
    "CpusetCpus": LIMITS + "test_the_other_limits_reach_the_kernel",
    "CpusetMems": LIMITS + "test_the_other_limits_reach_the_kernel",
    "PidsLimit": LIMITS + "test_a_fork_bomb_stops_at_the_pids_limit",
    "Ulimits": LIMITS + "test_ulimits_are_set_and_one_above_the_hosts_hard_limit_is_refused_clearly",
    "Init": LIMITS + "test_init_forwards_signals_and_reaps_orphans",
    "CgroupParent": LIMITS + "test_cgroup_parent_and_blkio_throttles_reach_the_kernel",
    "BlkioDeviceReadBps": LIMITS + "test_cgroup_parent_and_blkio_throttles_reach_the_kernel",
    "BlkioDeviceWriteBps": LIMITS + "test_cgroup_parent_and_blkio_throttles_reach_the_kernel",
    "BlkioDeviceReadIOps": LIMITS + "test_cgroup_parent_and_blkio_throttles_reach_the_kernel",
    "BlkioDeviceWriteIOps": LIMITS + "test_cgroup_parent_and_blkio_throttles_reach_the_kernel",
    "RestartPolicy": "tests/e2e/test_restart_policies.py::test_policies_across_a_daemon_restart",
    "GroupAdd": "tests/engine/test_hostfields.py::test_group_add_annotations_and_console_size_reach_the_task",
    "Annotations": "tests/engine/test_hostfields.py::test_group_add_annotations_and_console_size_reach_the_task",
    "ConsoleSize": "tests/engine/test_hostfields.py::test_group_add_annotations_and_console_size_reach_the_task",
    "ContainerIDFile": "tests/engine/test_hostfields.py::test_container_id_file_is_kept_as_given_for_the_client",
    "Links": "tests/engine/test_links.py::test_a_started_container_gets_its_links_environment",
    # the container's process and logs (earlier work)
    "AutoRemove": "tests/e2e/test_containers.py::test_run_rm_prints_and_leaves_nothing",
    "LogConfig": "tests/e2e/test_logs.py::test_log_rotation_is_bounded",
    # security (the security branch)
    "SecurityOpt": ISOLATION + "test_capabilities_and_options_unlock_what_docker_unlocks",
    "CapAdd": ISOLATION + "test_capabilities_and_options_unlock_what_docker_unlocks",
    "CapDrop": SECURITY + "test_capability_names",
    "Privileged": ISOLATION + "test_privileged_gets_every_host_capability_and_no_filter",
    "Devices": ISOLATION + "test_device_flag_and_privileged_give_the_device",
    "DeviceCgroupRules": ISOLATION + "test_a_mknoded_host_block_device_cannot_be_opened",
    "Sysctls": ISOLATION + "test_namespace_modes_sysctl_shm_and_read_only",
    "IpcMode": ISOLATION + "test_namespace_modes_sysctl_shm_and_read_only",
    "PidMode": ISOLATION + "test_namespace_modes_sysctl_shm_and_read_only",
    "UTSMode": "tests/engine/test_container_parts.py::test_namespaces_shared_with_the_host_or_another_container",
    "CgroupnsMode": SECURITY + "test_modes_accepted",
    "UsernsMode": SECURITY + "test_modes_refused",
    "Runtime": "tests/e2e/test_oci_runtimes.py::test_runc_runs_the_same_spec_and_dockyard_keeps_managing_it",
    "ReadonlyRootfs": ISOLATION + "test_namespace_modes_sysctl_shm_and_read_only",
    "Tmpfs": ISOLATION + "test_namespace_modes_sysctl_shm_and_read_only",
    "ShmSize": ISOLATION + "test_namespace_modes_sysctl_shm_and_read_only",
    "MaskedPaths": ISOLATION + "test_systempaths_unconfined_unmasks",
    "ReadonlyPaths": ISOLATION + "test_systempaths_unconfined_unmasks",
    # volumes (the volumes branch)
    "Binds": "tests/e2e/test_volumes.py::test_mount_of_each_type_and_inspect_shape",
    "Mounts": "tests/e2e/test_volumes.py::test_mount_of_each_type_and_inspect_shape",
    "VolumesFrom": "tests/e2e/test_volumes.py::test_volumes_from_shares_and_ro_is_enforced",
    # networking
    "NetworkMode": NETWORKING + "test_host_none_and_container_modes",
    "PortBindings": NETWORKING + "test_published_port_from_every_host_address_and_outside",
    "PublishAllPorts": NETWORKING + "test_publish_all_exposed_ports",
    "Dns": NETWORKING + "test_dns_hosts_hostname_and_mac",
    "DnsSearch": NETWORKING + "test_dns_hosts_hostname_and_mac",
    "DnsOptions": "tests/network/test_files.py::test_resolv_conf_rules",
    "ExtraHosts": NETWORKING + "test_dns_hosts_hostname_and_mac",
}
# dockerd discards these with a Warnings entry when the kernel lacks them; this host's v1 kernel
# has no blkio weight (no CFQ/BFQ) and refuses kernel memory limits (deprecated since 5.4)
WARNED = {
    "BlkioWeight": (500, 0, "Your kernel does not support Block I/O weight or the cgroup is not mounted."),
    "BlkioWeightDevice": (
        [{"Path": "/dev/null", "Weight": 100}],
        [],
        "Your kernel does not support Block I/O weight_device or the cgroup is not mounted.",
    ),
    "KernelMemory": (10 << 20, 0, "Your kernel does not support kernel memory limit capabilities"),
    "KernelMemoryTCP": (10 << 20, 0, "Your kernel does not support kernel memory TCP limit capabilities"),
    "CpuPercent": (50, 0, "linux does not support CPU percent. Percent discarded."),
}
VOLUME_DRIVER_LOCAL = {"VolumeDriver"}  # "local" is honoured (the only driver); others are refused


def test_every_field_of_the_spec_has_exactly_one_answer():
    fields = set(schema.HOST_CONFIG)
    answered = [*ENFORCED, *WARNED, *REFUSED]
    assert sorted(answered) == sorted(set(answered)), "a field is answered twice"
    assert fields - set(answered) == set(), "fields with no answer"
    assert set(answered) - fields == set(), "answers for fields the spec does not have"


def _tests_in(path: str) -> set[str]:
    tree = ast.parse(Path(path).read_text())
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


@pytest.mark.parametrize("field", sorted(ENFORCED))
def test_each_enforced_field_points_at_a_test_that_exists(field):
    path, _, name = ENFORCED[field].partition("::")
    assert name in _tests_in(path), f"{field}: no {name} in {path}"


@pytest.mark.parametrize("field", sorted(WARNED))
def test_each_discarded_field_gets_dockerds_warning_and_inspect_shows_it_dropped(engine, field):
    engine.containers.host_limits = dataclasses.replace(HOST_LIMITS, blkio_weight=False, blkio_weight_device=False)
    value, kept, warning = WARNED[field]
    created = engine.containers.create(None, {"Image": "busybox", "Cmd": ["true"]}, {field: value}, None)
    assert any(w.startswith(warning) for w in created["Warnings"]), created["Warnings"]
    shown = engine.containers.inspect(created["Id"])["HostConfig"]
    omitempty = field.startswith("KernelMemory")  # shown only when set, in API 1.44
    assert (shown.get(field, 0) if omitempty else shown[field]) == kept


@pytest.mark.parametrize("field", sorted(REFUSED))
def test_each_refused_field_is_a_400_naming_it(engine, field):
    value, message = REFUSED[field]
    with pytest.raises(InvalidArgument, match=message):
        engine.containers.create(None, {"Image": "busybox", "Cmd": ["true"]}, {field: value}, None)

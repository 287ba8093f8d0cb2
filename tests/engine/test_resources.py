"""HostConfig resources over the fakes: dockerd's checks and warnings at create, the limits in
the spec handed to the runtime, docker update on a running container, OOM, stats, --init."""

from __future__ import annotations

import dataclasses
import time

import pytest

from dockyard.engine.containers import resources
from dockyard.errors import Conflict, InvalidArgument
from tests.engine.harness import HOST_LIMITS
from tests.polling import eventually

MB = 1 << 20

# (HostConfig, dockerd's 400 message): each compared with the reference dockerd 20.10 on this host
REFUSED = [
    ({"Memory": 1000}, "Minimum memory limit allowed is 6MB"),
    ({"Memory": -5}, "Minimum memory limit allowed is 6MB"),
    ({"MemorySwap": 100 * MB}, "You should always set the Memory limit when using Memoryswap limit, see usage"),
    ({"Memory": 100 * MB, "MemorySwap": 50 * MB}, "Minimum memoryswap limit should be larger than memory limit"),
    ({"MemoryReservation": 1000}, "Minimum memory reservation allowed is 6MB"),
    ({"Memory": 10 * MB, "MemoryReservation": 20 * MB}, "Minimum memory limit can not be less than memory reservation"),
    ({"MemorySwappiness": 101}, "Invalid value: 101, valid memory swappiness range is 0-100"),
    ({"MemorySwappiness": -2}, "Invalid value: -2, valid memory swappiness range is 0-100"),
    ({"OomScoreAdj": 1001}, r"Invalid value 1001, range for oom score adj is \[-1000, 1000\]"),
    ({"OomScoreAdj": -1001}, r"Invalid value -1001, range for oom score adj is \[-1000, 1000\]"),
    ({"NanoCpus": 5 * 10**9}, "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"),
    ({"NanoCpus": -1}, "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"),
    ({"NanoCpus": 5 * 10**8, "CpuQuota": 50000}, "Conflicting options: Nano CPUs and CPU Quota cannot both be set"),
    ({"NanoCpus": 5 * 10**8, "CpuPeriod": 50000}, "Conflicting options: Nano CPUs and CPU Period cannot both be set"),
    ({"CpuPeriod": 100}, r"CPU cfs period can not be less than 1ms \(i.e. 1000\) or larger than 1s"),
    ({"CpuPeriod": 2000000}, r"CPU cfs period can not be less than 1ms \(i.e. 1000\) or larger than 1s"),
    ({"CpuQuota": 100}, r"CPU cfs quota can not be less than 1ms \(i.e. 1000\)"),
    ({"CpuShares": -1}, "the minimum allowed cpu-shares is 2"),
    ({"CpuShares": 1}, "the minimum allowed cpu-shares is 2"),
    ({"CpusetCpus": "abc"}, "Invalid value abc for cpuset cpus: invalid format: abc"),
    ({"CpusetCpus": "7"}, "Requested CPUs are not available - requested 7, available: 0-1"),
    ({"CpusetMems": "3"}, "Requested memory nodes are not available - requested 3, available: 0"),
    ({"CpusetMems": "x"}, "Invalid value x for cpuset mems: invalid format: x"),
    ({"IOMaximumIOps": 100}, "Invalid QoS settings: linux does not support configuration of maximum IOPs"),
    ({"CpuRealtimeRuntime": 1000}, "CpuRealtimePeriod/CpuRealtimeRuntime: real-time CPU scheduling"),
    ({"CpuCount": 1}, "CpuCount: linux does not support CPU count"),
    ({"Ulimits": [{"Name": "bogus", "Soft": 1, "Hard": 1}]}, "invalid ulimit type: bogus"),
    ({"Ulimits": [{"Name": "nofile", "Soft": 2000, "Hard": 1000}]}, "soft limit must be less than or equal to hard"),
    ({"BlkioDeviceReadBps": [{"Path": "/dev/no-such-disk", "Rate": 1}]}, "stat /dev/no-such-disk: no such file"),
    ({"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": -1}}, "maximum retry count cannot be negative"),
    ({"RestartPolicy": {"Name": "always", "MaximumRetryCount": 3}}, "can only be used with 'on-failure'"),
    ({"RestartPolicy": {"Name": "sometimes"}}, "invalid restart policy: unknown policy 'sometimes'"),
]


@pytest.mark.parametrize(("host_config", "message"), REFUSED)
def test_out_of_range_values_are_refused_in_dockerds_words_and_nothing_is_created(engine, host_config, message):
    with pytest.raises(InvalidArgument, match=message):
        engine.containers.create("c", {"Image": "busybox", "Cmd": ["true"]}, host_config, None)
    assert engine.containers.all() == [] and engine.runtime.running() == []


def _create(engine, **host_config) -> dict:
    return engine.containers.create(None, {"Image": "busybox", "Cmd": ["sleep", "1000"]}, host_config, None)


def test_what_the_kernel_lacks_is_discarded_with_dockerds_warning(engine):
    engine.containers.host_limits = dataclasses.replace(HOST_LIMITS, swap=False, oom_kill_disable=False)
    created = _create(engine, Memory=64 * MB, BlkioWeight=500, OomKillDisable=True, KernelMemory=10 * MB)
    assert created["Warnings"] == [
        "Your kernel does not support swap limit capabilities or the cgroup is not mounted. "
        "Memory limited without swap.",
        "Your kernel does not support kernel memory limit capabilities or the cgroup is not mounted. "
        "Limitation discarded.",
        "Your kernel does not support OomKillDisable. OomKillDisable discarded.",
        "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.",
    ]
    host = engine.containers.inspect(created["Id"])["HostConfig"]
    assert (host["Memory"], host["MemorySwap"], host["BlkioWeight"], host["OomKillDisable"]) == (
        64 * MB,
        -1,
        0,
        False,
    )  # dockerd adapts a discarded nil to false


def test_oom_kill_disable_without_memory_limit_warns(engine):
    assert _create(engine, OomKillDisable=True)["Warnings"] == [
        "OOM killer is disabled for the container, but no memory limit is set, "
        "this can result in the system running out of resources."
    ]


def test_limits_reach_the_runtime_and_inspect_shows_them_as_set(engine):
    host_config = {
        "Memory": 64 * MB,
        "MemoryReservation": 32 * MB,
        "MemorySwappiness": 20,
        "OomKillDisable": True,
        "NanoCpus": 5 * 10**8,
        "CpuShares": 512,
        "CpusetCpus": "0",
        "CpusetMems": "0",
        "PidsLimit": 50,
        "OomScoreAdj": 300,
        "Ulimits": [{"Name": "nofile", "Soft": 512, "Hard": 1024}],
    }
    container_id = engine.run("sleep", "1000", **host_config)
    assert engine.runtime.resources(engine.state_dir(container_id)) | {"devices": None} == {
        "devices": None,
        "memory": {
            "limit": 64 * MB,
            "reservation": 32 * MB,
            "swap": 128 * MB,  # dockerd's default: swap as large as the memory
            "swappiness": 20,
            "disableOOMKiller": True,
        },
        "cpu": {"shares": 512, "period": 100000, "quota": 50000, "cpus": "0", "mems": "0"},
        "pids": {"limit": 50},
    }
    shown = engine.containers.inspect(container_id)["HostConfig"]
    assert {k: shown[k] for k in host_config} == host_config
    assert shown["MemorySwap"] == 128 * MB


def test_rlimits_and_oom_score_go_into_the_process_spec(engine):
    container = engine.containers.get(
        engine.containers.create(
            None,
            {"Image": "busybox", "Cmd": ["true"]},
            {"Ulimits": [{"Name": "nofile", "Soft": 512, "Hard": 1024}], "OomScoreAdj": 300, "CgroupParent": "/mine"},
            None,
        )["Id"]
    )
    spec = {"process": {"args": ["true"]}, "linux": {"resources": {"devices": []}}}
    resources.apply_to_spec(spec, container.host_config, container.id)
    assert spec["process"]["rlimits"] == [{"type": "RLIMIT_NOFILE", "soft": 512, "hard": 1024}]
    assert spec["process"]["oomScoreAdj"] == 300
    assert spec["linux"]["cgroupsPath"] == f"mine/{container.id}"


def test_a_hard_ulimit_above_the_hosts_is_refused_when_the_host_gives_no_right_to_raise_it(engine):
    engine.containers.host_limits = dataclasses.replace(HOST_LIMITS, sys_resource=False)
    with pytest.raises(InvalidArgument, match="hard limit 99999999999 is above this host's .*CAP_SYS_RESOURCE"):
        _create(engine, Ulimits=[{"Name": "nofile", "Soft": 1024, "Hard": 99999999999}])


def test_pids_limit_of_zero_or_less_is_unlimited(engine):
    container_id = _create(engine, PidsLimit=-1)["Id"]
    assert engine.containers.inspect(container_id)["HostConfig"]["PidsLimit"] is None


def _events(engine, action: str) -> list[dict]:
    return [e for e in engine.events.subscribe(0, time.time(), {"type": ["container"]}) if e["Action"] == action]


def test_update_of_a_running_container_changes_its_cgroups_inspect_and_restart_policy(engine):
    container_id = engine.run("sleep", "1000", Memory=64 * MB, MemorySwap=128 * MB)
    reply = engine.containers.update(
        container_id,
        {
            "Memory": 96 * MB,
            "MemorySwap": 256 * MB,
            "NanoCpus": 10**9,
            "PidsLimit": 30,
            "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 2},
        },
    )
    assert reply == {"Warnings": None}  # moby's null when there is none
    applied = engine.runtime.resources(engine.state_dir(container_id))
    assert (applied["memory"]["limit"], applied["memory"]["swap"], applied["pids"]) == (
        96 * MB,
        256 * MB,
        {"limit": 30},
    )
    assert (applied["cpu"]["quota"], applied["cpu"]["period"]) == (100000, 100000)
    host = engine.containers.inspect(container_id)["HostConfig"]
    assert (host["Memory"], host["MemorySwap"], host["NanoCpus"], host["PidsLimit"]) == (96 * MB, 256 * MB, 10**9, 30)
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    assert [e["Actor"]["ID"] for e in _events(engine, "update")] == [container_id]
    engine.containers.update(container_id, {"PidsLimit": -1})
    assert engine.runtime.resources(engine.state_dir(container_id))["pids"] == {"limit": 0}  # written as max
    assert engine.containers.inspect(container_id)["HostConfig"]["PidsLimit"] is None


def test_update_refusals(engine):
    container_id = engine.run("sleep", "1000", Memory=64 * MB, MemorySwap=128 * MB, NanoCpus=10**9)
    with pytest.raises(Conflict, match="Memory limit should be smaller than already set memoryswap limit"):
        engine.containers.update(container_id, {"Memory": 200 * MB})
    unlimited = engine.run("sleep", "1000")  # no swap limit: as dockerd, a memory limit needs one too
    with pytest.raises(Conflict, match="update the memoryswap at the same time"):
        engine.containers.update(unlimited, {"Memory": 128 * MB})
    with pytest.raises(
        Conflict, match="Conflicting options: NanoCPUs cannot be updated as CPU Quota has already been set"
    ):
        engine.containers.update(container_id, {"CpuQuota": 50000})
    with pytest.raises(InvalidArgument, match="Minimum memory limit allowed is 6MB"):
        engine.containers.update(container_id, {"Memory": 1000})
    with pytest.raises(InvalidArgument, match="Ulimits cannot be changed by an update"):
        engine.containers.update(container_id, {"Ulimits": [{"Name": "nofile", "Soft": 1, "Hard": 1}]})
    removed = engine.containers.create(None, {"Image": "busybox", "Cmd": ["true"]}, {"AutoRemove": True}, None)["Id"]
    with pytest.raises(Conflict, match="Restart policy cannot be updated because AutoRemove is enabled"):
        engine.containers.update(removed, {"RestartPolicy": {"Name": "always"}})
    assert engine.containers.inspect(container_id)["HostConfig"]["Memory"] == 64 * MB


def test_update_of_a_stopped_container_is_kept_for_its_next_start(engine):
    container_id = _create(engine)["Id"]
    engine.containers.update(container_id, {"Memory": 32 * MB, "MemorySwap": 64 * MB})
    engine.containers.start(container_id)
    assert engine.runtime.resources(engine.state_dir(container_id))["memory"]["limit"] == 32 * MB


def test_an_oom_kill_is_reported_in_state_and_as_an_oom_event_before_die(engine):
    container_id = engine.run("sleep", "1000", Memory=16 * MB)
    engine.runtime.oom(engine.state_dir(container_id))
    eventually(lambda: _events(engine, "die"))
    state = engine.containers.inspect(container_id)["State"]
    assert (state["Status"], state["ExitCode"], state["OOMKilled"]) == ("exited", 137, True)
    actions = [e["Action"] for e in engine.events.subscribe(0, time.time(), {"type": ["container"]})]
    assert actions[-2:] == ["oom", "die"]


def test_stats_show_the_limits(engine):
    container_id = engine.run("sleep", "1000", Memory=64 * MB, PidsLimit=40)
    sample = next(iter(engine.containers.stats(container_id, stream=False)))
    assert sample["memory_stats"]["limit"] == 64 * MB
    assert sample["pids_stats"] == {"current": 1, "limit": 40}


def test_init_runs_the_reaper_as_pid_1_with_the_command_as_its_child(engine, tmp_path):
    reaper = tmp_path / "dockyard-init"
    reaper.write_bytes(b"#!fake\n")
    reaper.chmod(0o755)
    engine.containers.init_path = engine.containers.lifecycle.init_path = str(reaper)
    container_id = engine.run("sleep", "1000", Init=True)
    assert engine.runtime.task_args(engine.state_dir(container_id)) == ["/sbin/docker-init", "--", "sleep", "1000"]
    engine.containers.init_path = str(tmp_path / "missing")
    with pytest.raises(InvalidArgument, match="--init: .*missing is not an executable file"):
        _create(engine, Init=True)

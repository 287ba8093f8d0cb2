"""HostConfig security settings checked at create, with Docker's words. Pure (no root)."""

from __future__ import annotations

import json
import os
import stat

import pytest

from dockyard.engine.containers import security
from dockyard.errors import InvalidArgument
from dockyard.paths import DataRoot
from dockyard.runtime import devices


def test_security_options_as_moby_parses_them():
    default = security.security_options([])
    assert default.seccomp["defaultAction"] == "SCMP_ACT_ERRNO" and not default.no_new_privileges
    assert security.security_options(["seccomp=unconfined"]).seccomp is None
    assert security.security_options(["seccomp:unconfined"]).seccomp is None
    assert security.security_options(["no-new-privileges"]).no_new_privileges
    assert security.security_options(["no-new-privileges=true"]).no_new_privileges
    assert not security.security_options(["no-new-privileges=false"]).no_new_privileges
    assert not security.security_options(["systempaths=unconfined"]).system_paths
    custom = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}
    assert security.security_options([f"seccomp={json.dumps(custom)}"]).seccomp == custom


@pytest.mark.parametrize(
    ("opt", "message"),
    [
        ("bogus", 'Invalid --security-opt: "bogus"'),
        ("foo=bar", 'invalid --security-opt 2: "foo=bar"'),
        ("no-new-privileges=maybe", 'invalid --security-opt 2: "no-new-privileges=maybe"'),
        ("apparmor=docker-default", "AppArmor is not enabled"),
        ("seccomp={", "Decoding seccomp profile failed"),
        ('seccomp={"defaultAction": "SCMP_ACT_NOPE"}', "unknown or missing defaultAction"),
        ('seccomp={"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"]}]}', "syscalls[0]: unknown action"),
        (
            'seccomp={"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ALLOW", '
            '"args": [{"index": 0, "value": 1, "op": "SCMP_CMP_ALMOST"}]}]}',
            "unknown operator",
        ),
        ('seccomp={"defaultAction": "SCMP_ACT_ALLOW", "archMap": [{}], "architectures": ["x"]}', "both"),
    ],
)
def test_bad_security_options(opt, message):
    with pytest.raises(InvalidArgument, match=message.replace("[", r"\[").replace("{", r"\{")):
        security.security_options([opt])


def test_capability_names():
    assert security.normalize_capabilities(["net_admin", "CAP_CHOWN", "all"], "CapAdd") == [
        "CAP_NET_ADMIN",
        "CAP_CHOWN",
        "ALL",
    ]
    with pytest.raises(InvalidArgument, match='invalid CapAdd: unknown capability: "CAP_FLY"'):
        security.check_capabilities({"CapAdd": ["fly"]})
    with pytest.raises(InvalidArgument, match="invalid CapDrop"):
        security.check_capabilities({"CapDrop": ["CAP_NOPE"]})


@pytest.mark.parametrize(
    ("sysctls", "host_config", "message"),
    [
        ({"kernel.panic": "1"}, {}, 'sysctl "kernel.panic" is not in a separate kernel namespace'),
        ({"vm.swappiness": "1"}, {}, "not in a separate kernel namespace"),
        ({"net.ipv4.ip_forward": "1"}, {"NetworkMode": "host"}, "not allowed in host network namespace"),
        ({"kernel.shmmax": "1"}, {"IpcMode": "host"}, "not allowed in the hosts ipc namespace"),
        ({"net.../x": "1"}, {}, "not in a separate kernel namespace"),
    ],
)
def test_sysctls_refused(sysctls, host_config, message):
    with pytest.raises(InvalidArgument, match=message):
        security.check_sysctls({**host_config, "Sysctls": sysctls})


def test_namespaced_sysctls_accepted():
    security.check_sysctls({"Sysctls": {"net.ipv4.ip_forward": "1", "kernel.sem": "1 2 3 4", "fs.mqueue.msg_max": "5"}})
    assert security.sysctl_namespace("kernel.shm_rmid_forced") == "ipc"
    assert security.sysctl_namespace("kernel.hostname") is None


@pytest.mark.parametrize(
    ("host_config", "message"),
    [
        ({"IpcMode": "bogus"}, "invalid IPC mode: bogus"),
        ({"PidMode": "container:"}, "invalid PID mode: container:"),
        ({"UTSMode": "container:x"}, "invalid UTS mode: container:x"),
        ({"CgroupnsMode": "shared"}, "invalid cgroup namespace mode: shared"),
        ({"UsernsMode": "private"}, "userns-remap"),
        ({"ShmSize": -1}, "SHM size can not be less than 0"),
    ],
)
def test_modes_refused(host_config, message):
    with pytest.raises(InvalidArgument, match=message):
        security.check_modes(host_config)


def test_modes_accepted():
    security.check_modes(
        {
            "IpcMode": "shareable",
            "PidMode": "container:abc",
            "UTSMode": "host",
            "CgroupnsMode": "host",
            "UsernsMode": "host",
        }
    )


def test_devices_and_rules():
    nodes, rules = security.container_devices(
        {
            "Devices": [{"PathOnHost": "/dev/null", "PathInContainer": "/dev/mynull", "CgroupPermissions": "r"}],
            "DeviceCgroupRules": ["c 42:* rmw"],
        }
    )
    assert nodes[0]["path"] == "/dev/mynull" and (nodes[0]["type"], nodes[0]["major"], nodes[0]["minor"]) == ("c", 1, 3)
    assert rules == [
        {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "r"},
        {"allow": True, "type": "c", "major": 42, "minor": None, "access": "rmw"},
    ]
    with pytest.raises(InvalidArgument, match='adding custom device "/dev/nope": no such file or directory'):
        security.container_devices({"Devices": [{"PathOnHost": "/dev/nope"}]})
    with pytest.raises(InvalidArgument, match="not a device node"):
        security.container_devices({"Devices": [{"PathOnHost": "/etc/hostname"}]})
    with pytest.raises(InvalidArgument, match="invalid device cgroup rule format: 'c 1:3'"):
        security.container_devices({"DeviceCgroupRules": ["c 1:3"]})
    with pytest.raises(InvalidArgument, match="invalid device mode: rx"):
        security.container_devices({"Devices": [{"PathOnHost": "/dev/null", "CgroupPermissions": "rx"}]})
    assert devices.parse_rule("a *:* rwm")["type"] == "a"


def test_data_root_modes_fixed_up(tmp_path):
    root = DataRoot(tmp_path / "data")
    root.create()
    old = root.container("abc")
    (old / "execs" / "e").mkdir(parents=True)
    for path in (old / "task.json", old / "execs" / "e" / "task.json", root.database):
        path.write_text("{}")
        path.chmod(0o644)
    for path in (root.root, root.containers, old):
        path.chmod(0o755)
    root.create()
    mode = lambda path: stat.S_IMODE(os.stat(path).st_mode)  # noqa: E731
    assert [mode(p) for p in (root.root, root.containers, old)] == [0o710, 0o700, 0o700]
    assert [mode(p) for p in (old / "task.json", old / "execs" / "e" / "task.json", root.database)] == [0o600] * 3

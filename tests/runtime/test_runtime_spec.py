"""Pure tests of spec generation: Docker's defaults and the knobs that change them."""

import pytest

from dockyard.errors import InvalidArgument
from dockyard.runtime.capabilities import DEFAULT_CAPABILITIES
from dockyard.runtime.spec import (
    MASKED_PATHS,
    capability_set,
    default_spec,
    namespace_list,
    normalize_capability,
    process_spec,
)


def _spec(**kwargs):
    return default_spec(process_spec(["sh"]), root="/r", **kwargs)


def test_default_namespaces_are_all_new():
    types = [ns["type"] for ns in _spec()["linux"]["namespaces"]]
    assert types == ["mount", "pid", "uts", "ipc", "network", "cgroup"]
    assert all("path" not in ns for ns in _spec()["linux"]["namespaces"])


def test_namespace_modes_join_and_host():
    got = namespace_list({"network": "/proc/42/ns/net", "pid": "host"})
    assert {"type": "network", "path": "/proc/42/ns/net"} in got
    assert "pid" not in [ns["type"] for ns in got]


def test_unknown_namespace_rejected():
    with pytest.raises(InvalidArgument, match="unknown namespace type: user2"):
        namespace_list({"user2": "private"})


def test_default_mounts_match_docker():
    mounts = {m["destination"]: m for m in _spec()["mounts"]}
    assert list(mounts) == ["/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue", "/dev/shm"]
    assert "ro" in mounts["/sys"]["options"]
    assert "newinstance" in mounts["/dev/pts"]["options"]
    assert "ptmxmode=0666" in mounts["/dev/pts"]["options"] and "gid=5" in mounts["/dev/pts"]["options"]
    assert "size=65536k" in mounts["/dev/shm"]["options"]
    assert "mode=755" in mounts["/dev"]["options"]


def test_shm_size_and_extra_mounts_come_last():
    bind = {"destination": "/etc/hosts", "type": "bind", "source": "/x/hosts", "options": ["rbind"]}
    spec = _spec(shm_size=128 * 1024 * 1024, mounts=[bind])
    assert spec["mounts"][-1] == bind
    shm = next(m for m in spec["mounts"] if m["destination"] == "/dev/shm")
    assert "size=131072k" in shm["options"]


def test_default_capabilities_are_dockers_14():
    caps = _spec()["process"]["capabilities"]
    assert len(DEFAULT_CAPABILITIES) == 14
    assert set(caps["bounding"]) == set(DEFAULT_CAPABILITIES) == set(caps["effective"])
    assert "CAP_SYS_ADMIN" not in caps["bounding"]


def test_masked_and_readonly_paths_and_privileged_drops_them():
    linux = _spec()["linux"]
    assert "/proc/kcore" in linux["maskedPaths"] and "/proc/sys" in linux["readonlyPaths"]
    assert list(linux["maskedPaths"]) == list(MASKED_PATHS)
    priv = _spec(privileged=True)["linux"]
    assert priv["maskedPaths"] == [] and priv["readonlyPaths"] == []
    sys_mount = next(m for m in _spec(privileged=True)["mounts"] if m["destination"] == "/sys")
    assert "rw" in sys_mount["options"]


@pytest.mark.parametrize(
    "add,drop,has,lacks",
    [
        (["NET_ADMIN"], [], "CAP_NET_ADMIN", None),
        ([], ["chown"], None, "CAP_CHOWN"),
        (["ALL"], ["SYS_ADMIN"], "CAP_SYS_PTRACE", "CAP_SYS_ADMIN"),
        (["cap_sys_time"], ["ALL"], "CAP_SYS_TIME", "CAP_KILL"),
    ],
)
def test_cap_add_and_drop(add, drop, has, lacks):
    caps = capability_set(add, drop)
    if has:
        assert has in caps
    if lacks:
        assert lacks not in caps


def test_unknown_capability_rejected():
    with pytest.raises(InvalidArgument, match="unknown capability"):
        normalize_capability("FLY")


def test_process_fields():
    p = process_spec(["id"], env=["A=1"], cwd="/w", uid=1000, gid=50, additional_gids=[5], terminal=True)
    assert p["user"] == {"uid": 1000, "gid": 50, "additionalGids": [5]}
    assert p["terminal"] is True and p["cwd"] == "/w" and p["noNewPrivileges"] is False


def test_process_rejects_relative_cwd_and_empty_args():
    with pytest.raises(InvalidArgument, match="needs to be an absolute path"):
        process_spec(["sh"], cwd="work")
    with pytest.raises(InvalidArgument, match="no command specified"):
        process_spec([])


def test_resources_and_seccomp_carried_through():
    spec = _spec(
        resources={"memory": {"limit": 1 << 20}},
        seccomp={"defaultAction": "SCMP_ACT_ALLOW"},
        cgroups_path="dockyard/abc",
        hostname="h",
        readonly_rootfs=True,
    )
    assert spec["linux"]["resources"]["memory"]["limit"] == 1 << 20
    assert spec["linux"]["seccomp"]["defaultAction"] == "SCMP_ACT_ALLOW"
    assert spec["linux"]["cgroupsPath"] == "dockyard/abc"
    assert spec["hostname"] == "h" and spec["root"] == {"path": "/r", "readonly": True}

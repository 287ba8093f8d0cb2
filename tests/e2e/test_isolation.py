"""What a container sees: its own namespaces, overlay root, /proc, read-only /sys, a small /dev,
generated /etc/hosts, resolv.conf and hostname; and -e/--env-file, -w, -u, -h, labels."""

from __future__ import annotations

import os
import uuid

import pytest

pytestmark = pytest.mark.root

NAMESPACES = ("pid", "uts", "ipc", "net", "mnt", "cgroup")


@pytest.fixture(scope="module")
def probe(daemon):
    name = f"probe-{uuid.uuid4().hex[:8]}"
    daemon.cli("run", "-d", "--name", name, "-h", "box.example", "busybox", "sleep", "600")
    yield name
    daemon.cli("rm", "-f", name)


def test_own_namespaces(daemon, probe):
    pid = daemon.inspect(probe)["State"]["Pid"]
    for kind in NAMESPACES:
        assert os.readlink(f"/proc/{pid}/ns/{kind}") != os.readlink(f"/proc/self/ns/{kind}"), kind
    assert daemon.cli("exec", probe, "cat", "/proc/1/cmdline").stdout == "sleep\x00600\x00"
    interfaces = daemon.cli("exec", probe, "ls", "/sys/class/net").stdout.split()
    assert interfaces == ["lo"]


def test_root_proc_sys_dev(daemon, client, probe):
    mounts = daemon.client(client, "exec", probe, "cat", "/proc/mounts").stdout.splitlines()
    by_point = {line.split()[1]: line.split() for line in mounts}
    assert by_point["/"][2] == "overlay"
    assert by_point["/proc"][2] == "proc"
    assert by_point["/sys"][2] == "sysfs" and "ro" in by_point["/sys"][3].split(",")
    assert by_point["/dev"][2] == "tmpfs"
    for point, kind in (("/dev/pts", "devpts"), ("/dev/shm", "tmpfs"), ("/dev/mqueue", "mqueue")):
        assert by_point[point][2] == kind, point
    assert daemon.client(client, "exec", probe, "touch", "/sys/x", check=False).returncode != 0
    devices = set(daemon.client(client, "exec", probe, "ls", "/dev").stdout.split())
    assert {"null", "zero", "full", "random", "urandom", "tty", "pts", "shm", "mqueue", "ptmx"} <= devices
    assert not devices & {"sda", "vda", "mem", "kmsg", "loop0"}
    assert (
        daemon.client(
            client, "exec", probe, "sh", "-c", "echo x > /dev/null && head -c 4 /dev/zero | wc -c"
        ).stdout.strip()
        == "4"
    )


def test_generated_files(daemon, client, probe):
    doc = daemon.inspect(probe)
    assert daemon.client(client, "exec", probe, "hostname").stdout.strip() == "box.example"
    hosts = daemon.client(client, "exec", probe, "cat", "/etc/hosts").stdout
    assert "127.0.0.1\tlocalhost" in hosts  # the hostname line comes with an address (networking)
    assert daemon.client(client, "exec", probe, "test", "-f", "/etc/resolv.conf").returncode == 0
    with open(doc["HostsPath"]) as f:
        assert f.read() == hosts


def test_writes_land_in_the_upper_dir_only(daemon, probe):
    daemon.cli("exec", probe, "sh", "-c", "echo changed > /etc/motd-test")
    doc = daemon.inspect(probe)
    with open(os.path.join(doc["GraphDriver"]["Data"]["UpperDir"], "etc/motd-test")) as f:
        assert f.read() == "changed\n"
    other = daemon.cli("run", "--rm", "busybox", "cat", "/etc/motd-test", check=False)
    assert other.returncode == 1


def test_env_workdir_user_hostname_labels(daemon, client, tmp_path):
    env_file = tmp_path / "env.list"
    env_file.write_text("# comment\nFROM_FILE=file value\nPASSED\n")
    name = f"settings-{uuid.uuid4().hex[:8]}"
    out = daemon.client(
        client,
        "run",
        "--name",
        name,
        "-e",
        "A=1",
        "--env-file",
        str(env_file),
        "-w",
        "/tmp/work",
        "-u",
        "app:staff",
        "-h",
        "custom",
        "-l",
        "role=test",
        "busybox",
        "sh",
        "-c",
        'echo "$A|$FROM_FILE|$PASSED|$HOME"; pwd; id -u; id -g; hostname',
    )
    lines = out.stdout.splitlines()
    assert lines == ["1|file value||/home/app", "/tmp/work", "1000", "50", "custom"]
    assert daemon.inspect(name)["Config"]["Labels"] == {"role": "test"}
    daemon.cli("rm", name)
    groups = daemon.client(client, "run", "--rm", "-u", "app", "busybox", "id", "-G").stdout.split()
    assert groups[0] == "1000" and "50" in groups  # supplementary groups from /etc/group
    unknown = daemon.client(client, "run", "--rm", "-u", "nobody-here", "busybox", "true", check=False)
    assert unknown.returncode != 0 and "nobody-here" in unknown.stderr

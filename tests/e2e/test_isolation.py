"""What a container sees: its own namespaces, overlay root, /proc, read-only /sys, a small /dev,
generated /etc/hosts, resolv.conf and hostname; and -e/--env-file, -w, -u, -h, labels.

Then Docker's security profile, probed from inside default containers with a static C probe
(tests/e2e/probes/sysprobe.c, built with gcc): seccomp EPERMs and what --cap-add,
--privileged and unconfined unlock, device rules on v1 and v2, /proc/*/exe while execs
enter, namespace modes, sysctls, bad security input refused with nothing started."""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import stat
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.e2e.daemon import DOCKYARD

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


# ---- the security profile: seccomp, capabilities, devices, the runtime's own binary ----------

PROBE_SOURCE = Path(__file__).parent / "probes" / "sysprobe.c"
CONTAINER_BINARIES = ("/bin/busybox", "/probe/sysprobe")


@pytest.fixture(scope="module")
def sysprobe(tmp_path_factory):
    """The static C probe, compiled once, in a directory to bind at /probe."""
    if not shutil.which("gcc"):
        pytest.skip("needs gcc and a static libc to build the probe")
    directory = tmp_path_factory.mktemp("probe")
    subprocess.run(["gcc", "-static", "-O1", "-o", str(directory / "sysprobe"), str(PROBE_SOURCE)], check=True)
    return directory


def _probe(daemon, sysprobe, *args, options=(), check=True):
    result = daemon.cli("run", "--rm", "-v", f"{sysprobe}:/probe:ro", *options, "busybox", *args, check=check)
    return result.stdout.strip()


@pytest.mark.parametrize("syscall", ["keyctl", "unshare", "init_module", "mount"])
def test_default_profile_refuses_with_eperm(daemon, sysprobe, syscall):
    assert _probe(daemon, sysprobe, "/probe/sysprobe", syscall) == "EPERM"


@pytest.mark.parametrize(
    ("syscall", "options", "outcome"),
    [
        ("unshare", ("--cap-add", "SYS_ADMIN"), "ok"),
        ("mount", ("--cap-add", "SYS_ADMIN", "--security-opt", "apparmor=unconfined"), "ok"),
        ("init_module", ("--cap-add", "SYS_MODULE"), "reached"),
        ("unshare", ("--privileged",), "ok"),
        ("keyctl", ("--security-opt", "seccomp=unconfined"), "ok"),
        ("keyctl", ("--cap-add", "ALL"), "EPERM"),  # no capability unlocks the keyring
    ],
)
def test_capabilities_and_options_unlock_what_docker_unlocks(daemon, sysprobe, syscall, options, outcome):
    assert _probe(daemon, sysprobe, "/probe/sysprobe", syscall, options=options) == outcome


def test_privileged_gets_every_host_capability_and_no_filter(daemon):
    with open("/proc/self/status") as f:
        host = next(line.split()[1] for line in f if line.startswith("CapBnd:"))
    out = daemon.cli("run", "--rm", "--privileged", "busybox", "grep", "-E", "^(CapEff|Seccomp):", "/proc/self/status")
    assert out.stdout.split() == ["CapEff:", host, "Seccomp:", "0"]
    default = daemon.cli("run", "--rm", "busybox", "grep", "-E", "^(Seccomp|NoNewPrivs):", "/proc/self/status")
    assert default.stdout.split() == ["NoNewPrivs:", "0", "Seccomp:", "2"]
    nnp = daemon.cli(
        "run", "--rm", "--security-opt", "no-new-privileges", "busybox", "grep", "NoNewPrivs", "/proc/self/status"
    )
    assert nnp.stdout.split() == ["NoNewPrivs:", "1"]


@pytest.mark.parametrize(
    "options, status",
    [
        ((), ["NoNewPrivs:", "0", "Seccomp:", "2"]),
        (("--security-opt", "seccomp=unconfined"), ["NoNewPrivs:", "0", "Seccomp:", "0"]),
        (("--security-opt", "no-new-privileges"), ["NoNewPrivs:", "1", "Seccomp:", "2"]),
    ],
)
def test_an_exec_runs_under_its_containers_filter(daemon, options, status):
    """As runc: an exec gets the container's seccomp filter (none for an unconfined one) and no_new_privs."""
    container = daemon.cli("run", "-d", *options, "busybox", "sleep", "60").stdout.strip()
    try:
        out = daemon.cli("exec", container, "grep", "-E", "^(Seccomp|NoNewPrivs):", "/proc/self/status")
        assert out.stdout.split() == status
    finally:
        daemon.cli("rm", "-f", container)


def test_no_host_processes_proc_and_sys_guarded(daemon, client):
    script = (
        "ls -d /proc/[0-9]* | wc -l; echo c > /proc/sysrq-trigger; echo sysrq=$?; touch /sys/kernel/x; "
        "echo sys=$?; head -c 16 /proc/kcore | wc -c; mount -t tmpfs none /tmp; echo mount=$?"
    )
    out = daemon.client(client, "run", "--rm", "busybox", "sh", "-c", script).stdout.split()
    assert int(out[0]) <= 3  # sh, ls and wc: the host's hundreds of processes are not there
    assert out[1:] == ["sysrq=1", "sys=1", "0", "mount=1"]


def test_the_hosts_hostname_is_untouched(daemon):
    before = socket.gethostname()
    refused = daemon.cli("run", "--rm", "busybox", "hostname", "evil", check=False)
    assert refused.returncode != 0 and "Operation not permitted" in refused.stderr
    inside = daemon.cli("run", "--rm", "--cap-add", "SYS_ADMIN", "busybox", "sh", "-c", "hostname evil; hostname")
    assert inside.stdout.strip() == "evil"
    assert socket.gethostname() == before


def _host_block_device(tmp_path: Path) -> tuple[str, int, int]:
    """A block device of the host: (path, major, minor), loop0 if there is one."""
    if os.path.exists("/dev/loop0") and stat.S_ISBLK(os.stat("/dev/loop0").st_mode):
        return "/dev/loop0", 7, 0
    path = tmp_path / "blk"
    os.mknod(path, stat.S_IFBLK | 0o600, os.makedev(7, 0))
    return str(path), 7, 0


def test_a_mknoded_host_block_device_cannot_be_opened(daemon, client, tmp_path):
    _, major, minor = _host_block_device(tmp_path)
    script = f"mknod /tmp/disk b {major} {minor} && head -c 1 /tmp/disk > /dev/null; echo rc=$?"
    out = daemon.client(client, "run", "--rm", "busybox", "sh", "-c", script)
    assert out.stdout.strip() == "rc=1" and "Operation not permitted" in out.stderr
    allowed = daemon.client(
        client, "run", "--rm", "--device-cgroup-rule", f"b {major}:{minor} rwm", "busybox", "sh", "-c", script
    )
    assert allowed.stdout.strip() == "rc=0"


def test_device_flag_and_privileged_give_the_device(daemon, tmp_path):
    path, _, _ = _host_block_device(tmp_path)
    given = daemon.cli(
        "run",
        "--rm",
        "--device",
        f"{path}:/dev/xvda:r",
        "busybox",
        "sh",
        "-c",
        "head -c 1 /dev/xvda >/dev/null; echo rc=$?",
    )
    assert given.stdout.strip() == "rc=0"
    if path == "/dev/loop0":
        privileged = daemon.cli(
            "run", "--rm", "--privileged", "busybox", "sh", "-c", "head -c 1 /dev/loop0 >/dev/null; echo rc=$?"
        )
        assert privileged.stdout.strip() == "rc=0"


def _open_from_cgroup(procs_file: str, device: str) -> int:
    """Fork a host process into one cgroup (by its procs/tasks file) and open `device` there:
    0 if it opened, the errno if not."""
    pid = os.fork()
    if pid == 0:
        try:
            with open(procs_file, "w") as f:
                f.write("0")
            os.close(os.open(device, os.O_RDONLY))
            os._exit(0)
        except OSError as exc:
            os._exit(exc.errno or 99)
        finally:
            os._exit(98)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def test_device_rules_bite_on_v1_and_on_v2(daemon, tmp_path):
    """The container's v1 devices cgroup and its v2 cgroup (eBPF program) each refuse alone."""
    device, _, _ = _host_block_device(tmp_path)
    name = f"devices-{uuid.uuid4().hex[:8]}"
    daemon.cli("run", "-d", "--name", name, "busybox", "sleep", "60")
    try:
        pid = daemon.inspect(name)["State"]["Pid"]
        with open(f"/proc/{pid}/cgroup") as f:
            lines = dict(line.rstrip("\n").split(":", 2)[1:] for line in f)
        v1, v2 = lines.get("devices"), lines.get("")
        assert os.path.exists(f"/sys/fs/cgroup/devices{v1}/tasks") and v2 is not None
        assert _open_from_cgroup("/sys/fs/cgroup/devices/tasks", device) == 0  # the host itself may
        assert _open_from_cgroup(f"/sys/fs/cgroup/devices{v1}/tasks", device) == errno.EPERM
        unified = next(
            p for p in ("/sys/fs/cgroup/unified", "/sys/fs/cgroup") if os.path.exists(f"{p}{v2}/cgroup.procs")
        )
        assert _open_from_cgroup(f"{unified}{v2}/cgroup.procs", device) == errno.EPERM
        assert _open_from_cgroup(f"{unified}{v2}/cgroup.procs", "/dev/null") == 0
    finally:
        daemon.cli("rm", "-f", name)


def test_an_entering_exec_never_shows_a_host_binary(daemon, sysprobe):
    """While execs start, a prober tries /proc/<pid>/exe of every process it can see."""
    name = f"exe-{uuid.uuid4().hex[:8]}"
    daemon.cli("run", "-d", "--name", name, "-v", f"{sysprobe}:/probe:ro", "busybox", "sleep", "120")
    try:
        argv = [DOCKYARD, "-H", daemon.host, "exec", name, "/probe/sysprobe", "exescan", "8"]
        scan = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        time.sleep(0.5)
        for _ in range(15):
            daemon.cli("exec", name, "true")
        out, _ = scan.communicate(timeout=60)
    finally:
        daemon.cli("rm", "-f", name)
    seen = [line.split(" ", 2)[2] for line in out.splitlines() if line.startswith("exe ")]
    assert seen and all(target in CONTAINER_BINARIES for target in seen), set(seen)
    counts = dict(line.split() for line in out.splitlines() if not line.startswith("exe "))
    assert int(counts["denied"]) > 0  # the prober did catch execs while they were entering
    assert counts["ptrace-ok"] == "0"


def test_bad_security_input_is_refused_and_starts_nothing(daemon, client, tmp_path):
    malformed = tmp_path / "profile.json"
    malformed.write_text(json.dumps({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"]}]}))
    cases = [
        (("--cap-add", "NOT_A_CAP"), 'unknown capability: "CAP_NOT_A_CAP"'),
        (("--security-opt", f"seccomp={malformed}"), "Decoding seccomp profile failed"),
        (("--runtime", "nope"), "Unknown runtime specified nope"),
        (("--device", "/dev/does-not-exist"), 'adding custom device "/dev/does-not-exist": no such file'),
        (("--sysctl", "kernel.panic=1"), "kernel.panic"),  # the docker CLI refuses it itself
        (("--security-opt", "bogus"), 'Invalid --security-opt: "bogus"'),
    ]
    before = daemon.cli("ps", "-aq").stdout.split()
    for options, message in cases:
        result = daemon.client(client, "run", "--rm", *options, "busybox", "true", check=False)
        # the docker CLI exits 127 when the daemon's message says "no such file or directory"
        assert result.returncode in (125, 127) and message in result.stderr, (options, result.stderr)
    assert daemon.cli("ps", "-aq").stdout.split() == before


def test_host_files_are_private(daemon):
    name = f"modes-{uuid.uuid4().hex[:8]}"
    daemon.cli("run", "-d", "--name", name, "-e", "SECRET=x", "busybox", "sleep", "60")
    try:
        directory = daemon.data_root / "containers" / daemon.inspect(name)["Id"]
        modes = {
            path: stat.S_IMODE(os.stat(path).st_mode)
            for path in (daemon.data_root, daemon.data_root / "containers", directory, directory / "task.json")
        }
        assert list(modes.values()) == [0o710, 0o700, 0o700, 0o600]
    finally:
        daemon.cli("rm", "-f", name)


def test_namespace_modes_sysctl_shm_and_read_only(daemon):
    donor = f"donor-{uuid.uuid4().hex[:8]}"
    private = f"private-{uuid.uuid4().hex[:8]}"
    daemon.cli("run", "-d", "--name", donor, "--ipc", "shareable", "busybox", "sleep", "60")
    daemon.cli("run", "-d", "--name", private, "busybox", "sleep", "60")
    try:
        daemon.cli("exec", donor, "sh", "-c", "echo shared > /dev/shm/marker")
        joined = daemon.cli(
            "run", "--rm", "--pid", f"container:{donor}", "--ipc", f"container:{donor}", "busybox",
            "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; cat /dev/shm/marker",
        )  # fmt: skip
        assert joined.stdout.split() == ["sleep", "60", "shared"]
        refused = daemon.cli("run", "--rm", "--ipc", f"container:{private}", "busybox", "true", check=False)
        assert refused.returncode != 0 and "non-shareable IPC" in refused.stderr
        host_pid = daemon.cli("run", "--rm", "--pid", "host", "busybox", "sh", "-c", "ls -d /proc/[0-9]* | wc -l")
        assert int(host_pid.stdout) > 10
    finally:
        daemon.cli("rm", "-f", donor, private)
    tuned = daemon.cli(
        "run", "--rm", "--sysctl", "kernel.shmmax=123456", "--sysctl", "net.ipv4.ip_unprivileged_port_start=99",
        "--shm-size", "2m", "--read-only", "--tmpfs", "/run", "busybox", "sh", "-c",
        "cat /proc/sys/kernel/shmmax /proc/sys/net/ipv4/ip_unprivileged_port_start; df -k /dev/shm | tail -1;"
        " touch /etc/x 2>/dev/null || echo ro; touch /run/x && echo tmpfs",
    )  # fmt: skip
    lines = tuned.stdout.splitlines()
    assert lines[:2] == ["123456", "99"] and lines[2].split()[1] == "2048" and lines[3:] == ["ro", "tmpfs"]
    with open("/proc/sys/kernel/shmmax") as f:
        assert f.read().strip() != "123456"  # the host's own value is untouched


def test_systempaths_unconfined_unmasks(daemon, client):
    script = "grep -c ' /proc/interrupts ' /proc/mounts; grep -c ' /proc/sys ' /proc/mounts"
    masked = daemon.client(client, "run", "--rm", "busybox", "sh", "-c", script).stdout.split()
    assert masked == ["1", "1"]  # /dev/null over interrupts, /proc/sys bound read-only
    opts = ("--security-opt", "systempaths=unconfined")
    unmasked = daemon.client(client, "run", "--rm", *opts, "busybox", "sh", "-c", script, check=False)
    assert unmasked.stdout.split() == ["0", "0"]

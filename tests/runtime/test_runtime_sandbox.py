"""A container's init made ahead (runtime/sandbox.py): made by the fork server's spare once it
idles, used by the create of its state dir when the task fits, discarded otherwise."""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from dockyard.engine.containers import specgen
from dockyard.runtime import sandbox
from dockyard.runtime import spec as oci
from dockyard.runtime.cgroups import hierarchy
from dockyard.runtime.runtime import IOConfig
from tests.polling import eventually
from tests.runtime.busybox import collect, make_spec, run_task

DEFAULT_NAMESPACES = [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount", "cgroup")]
DEFAULT_RESOURCES = {"devices": json.loads(json.dumps(sandbox.DEVICE_RULES)), "pids": {"limit": 0}}


def _task(**changes) -> dict:
    linux = {"namespaces": DEFAULT_NAMESPACES, "cgroupsPath": "dockyard/abc", "resources": DEFAULT_RESOURCES}
    task = {"mode": "init", "spec": {"linux": {**linux, **changes.pop("linux", {})}}}
    return {**task, **changes}


def _made_for(cgroups_path: str) -> sandbox.Sandbox:
    return sandbox.Sandbox("/x/abc", cgroups_path, 1, [], None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("task", "fits"),
    [
        (_task(), True),
        (_task(linux={"cgroupsPath": "/dockyard/abc/"}), True),
        (_task(linux={"cgroupsPath": None}), True),  # the default path is the sandbox's
        (_task(linux={"namespaces": DEFAULT_NAMESPACES[:5]}), True),  # the host's cgroup namespace
        (_task(mode="exec"), False),
        (_task(oci_runtime=["runc"]), False),
        (_task(linux={"cgroupsPath": "custom/abc"}), False),
        (_task(linux={"resources": {**DEFAULT_RESOURCES, "memory": {"limit": 6 << 20}}}), False),
        (_task(linux={"resources": {**DEFAULT_RESOURCES, "memory": {"disableOOMKiller": False}}}), True),
        (_task(linux={"resources": {"devices": [{"allow": True, "access": "rwm"}]}}), False),  # privileged
        (_task(linux={"resources": {"devices": [*sandbox.DEVICE_RULES, {"allow": True, "type": "c"}]}}), False),
        (_task(linux={"namespaces": [ns for ns in DEFAULT_NAMESPACES if ns["type"] != "network"]}), False),
        (_task(linux={"namespaces": [*DEFAULT_NAMESPACES[:1], {"type": "network", "path": "/proc/1/ns/net"}]}), False),
        (_task(linux={"namespaces": [*DEFAULT_NAMESPACES, {"type": "user"}]}), False),
        (_task(linux={"namespaces": [*DEFAULT_NAMESPACES, {"type": "pid"}]}), False),
    ],
)
def test_a_task_fits_the_sandbox_only_with_its_cgroup_and_namespaces(task, fits):
    assert sandbox.fits(_made_for("dockyard/abc"), task) is fits


@pytest.mark.parametrize(
    ("host", "may"),
    [
        ({}, True),
        ({"NetworkMode": "bridge", "IpcMode": "private", "PidMode": "", "CpuShares": 512}, True),
        ({"NetworkMode": "host"}, False),
        ({"NetworkMode": "container:abc"}, False),
        ({"PidMode": "host"}, False),
        ({"IpcMode": "container:abc"}, False),
        ({"UTSMode": "host"}, False),
        ({"CgroupParent": "/custom"}, False),
        ({"Memory": 6 << 20}, False),
        ({"Privileged": True}, False),
        ({"Devices": [{"PathOnHost": "/dev/null"}]}, False),
        ({"DeviceCgroupRules": ["c 1:3 r"]}, False),
        ({"DeviceRequests": [{"Count": -1}]}, False),
    ],
)
def test_the_engine_reserves_the_made_ahead_init_only_for_containers_that_fit(host, may):
    assert specgen.may_prepare(host) is may


def _sandbox_pids(name: str) -> list[int]:
    """The processes in the pids cgroup `dockyard/<name>` (empty when it does not exist)."""
    pids = next(h for h in hierarchy.discover() if "pids" in h.controllers or h.version == 2)
    try:
        return [int(p) for p in Path(pids.path, "dockyard", name, "cgroup.procs").read_text().split()]
    except FileNotFoundError:
        return []


def _gone(pid: int) -> bool:
    """Exited: no /proc entry, or a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def _cgroup_exists(name: str) -> bool:
    return any(Path(h.path, "dockyard", name).exists() for h in hierarchy.discover())


@pytest.fixture
def named(tmp_path: Path) -> Path:
    """A state dir whose name (the sandbox's cgroup) no other test or container uses."""
    path = tmp_path / f"sandbox-{os.getpid()}-{tmp_path.name}"
    path.mkdir()
    yield path
    assert not _cgroup_exists(path.name)  # every test leaves the cgroup removed


def _warm(runtime, tmp_path: Path, rootfs: Path) -> None:
    """Start the fork server (prepare() is a hint it ignores until then)."""
    assert run_task(runtime, tmp_path / "warm", make_spec(rootfs, ["true"]))[0] == 0
    runtime.delete(tmp_path / "warm")


def _prepared(runtime, state_dir: Path) -> int:
    runtime.prepare(state_dir)
    eventually(lambda: len(_sandbox_pids(state_dir.name)) == 1, what="the sandbox made at idle")
    return _sandbox_pids(state_dir.name)[0]


@pytest.mark.root
def test_create_runs_the_task_in_the_sandbox_made_ahead(runtime, tmp_path, rootfs, named):
    _warm(runtime, tmp_path, rootfs)
    waiting = _prepared(runtime, named)
    host_net = os.stat("/proc/self/ns/net").st_ino
    assert os.stat(f"/proc/{waiting}/ns/net").st_ino != host_net  # cloned into its namespaces
    spec = make_spec(rootfs, ["sh", "-c", "echo $$ $(hostname); cat /proc/self/cgroup"])
    spec["linux"]["resources"]["pids"] = {"limit": 42}  # the limits not made ahead are written at start
    pid = runtime.create(named, spec, IOConfig())
    assert pid == waiting
    pids = next(h for h in hierarchy.discover() if "pids" in h.controllers)
    assert Path(pids.path, "dockyard", named.name, "pids.max").read_text().strip() == "42"
    sock = runtime.attach(named, False, True, True)
    runtime.start(named)
    out, err = collect(sock)
    assert err == b""
    first, *cgroups = out.decode().splitlines()
    assert first == "1 box"  # PID 1 of its own pid namespace, with the spec's hostname
    assert cgroups and all(line.endswith(":/") for line in cgroups)  # its own cgroup namespace
    assert runtime.wait(named, timeout=10).exit_code == 0
    runtime.delete(named)


def _echo_ok(runtime, state_dir: Path, spec: dict, on_create=lambda: True) -> int:
    """Run a task printing "ok" (`on_create` checked right after its create); its init's pid."""
    pid = runtime.create(state_dir, spec, IOConfig())
    assert on_create()
    sock = runtime.attach(state_dir, False, True, True)
    runtime.start(state_dir)
    assert collect(sock) == (b"ok\n", b"")
    assert runtime.wait(state_dir, timeout=10).exit_code == 0
    runtime.delete(state_dir)
    return pid


@pytest.mark.root
def test_a_task_that_does_not_fit_discards_the_sandbox(runtime, tmp_path, rootfs, named):
    _warm(runtime, tmp_path, rootfs)
    waiting = _prepared(runtime, named)
    spec = make_spec(rootfs, ["echo", "ok"])
    relative = f"dockyard/elsewhere-{os.getpid()}-{tmp_path.name}"
    spec["linux"]["cgroupsPath"] = relative
    assert _echo_ok(runtime, named, spec, on_create=lambda: not _cgroup_exists(named.name)) != waiting
    eventually(lambda: _gone(waiting), what="the sandbox's child reaped")
    eventually(lambda: not _cgroup_exists(relative.rpartition("/")[2]))


@pytest.mark.root
def test_a_sandbox_whose_child_died_falls_back_to_a_new_child(runtime, tmp_path, rootfs, named):
    _warm(runtime, tmp_path, rootfs)
    waiting = _prepared(runtime, named)
    os.kill(waiting, signal.SIGKILL)  # the OOM killer, say
    eventually(lambda: _gone(waiting))
    assert _echo_ok(runtime, named, make_spec(rootfs, ["echo", "ok"])) != waiting


@pytest.mark.root
def test_the_cgroups_of_a_sandbox_whose_shim_died_are_removed(runtime, tmp_path, rootfs, named):
    _warm(runtime, tmp_path, rootfs)
    waiting = _prepared(runtime, named)
    holder = int(Path(f"/proc/{waiting}/stat").read_text().rpartition(")")[2].split()[1])  # its parent
    os.kill(holder, signal.SIGKILL)
    eventually(lambda: not _cgroup_exists(named.name), what="the fork server's clean-up")
    assert _gone(waiting)


@pytest.mark.root
def test_prepare_refuses_a_cgroup_that_exists(runtime, tmp_path, rootfs, named):
    """A task running under that name (or another sandbox) keeps its cgroup and processes."""
    pids = next(h for h in hierarchy.discover() if "pids" in h.controllers or h.version == 2)
    Path(pids.path, "dockyard", named.name).mkdir()
    try:
        with pytest.raises(FileExistsError):
            sandbox.prepare(str(named), hierarchy.discover())
    finally:
        Path(pids.path, "dockyard", named.name).rmdir()


@pytest.mark.root
def test_unprepare_returns_once_the_sandbox_is_gone(runtime, tmp_path, rootfs, named):
    _warm(runtime, tmp_path, rootfs)
    waiting = _prepared(runtime, named)
    runtime.unprepare(named)
    assert not _cgroup_exists(named.name)
    assert _gone(waiting)


@pytest.mark.root
def test_an_unused_sandbox_goes_with_the_fork_server(runtime, tmp_path, rootfs, named):
    _warm(runtime, tmp_path, rootfs)
    _prepared(runtime, named)
    runtime.close()
    eventually(lambda: not _cgroup_exists(named.name), what="the sandbox's cgroup removed")


@pytest.mark.root
def test_prepare_before_the_fork_server_runs_is_made_once_it_does(runtime, tmp_path, rootfs, named):
    runtime.prepare(named)
    assert runtime.zygote._proc is None  # a hint starts no server
    assert not _cgroup_exists(named.name)
    _warm(runtime, tmp_path, rootfs)  # the first start does, and hands it the hint
    eventually(lambda: len(_sandbox_pids(named.name)) == 1, what="the sandbox made at idle")
    runtime.unprepare(named)
    assert not _cgroup_exists(named.name)


@pytest.mark.root
def test_unprepare_before_the_fork_server_runs_forgets_the_hint(runtime, tmp_path, rootfs, named):
    runtime.prepare(named)
    runtime.unprepare(named)
    _warm(runtime, tmp_path, rootfs)
    time.sleep(0.3)  # idle long enough for a sandbox to be made, were one asked for
    assert not _cgroup_exists(named.name)


def _staged_task(**linux_changes) -> dict:
    """A task that fits the sandbox made for /x/abc, with Docker's mounts and its own files."""
    own = [{"destination": f"/etc/{name}", "type": "bind", "source": f"/x/abc/{name}", "options": ["rbind"]}
           for name in ("hostname", "hosts", "resolv.conf")]  # fmt: skip
    spec = {
        "mounts": [*oci.default_mounts(), *own],
        "linux": {
            "namespaces": DEFAULT_NAMESPACES,
            "resources": DEFAULT_RESOURCES,
            "maskedPaths": list(oci.MASKED_PATHS),
            "readonlyPaths": list(oci.READONLY_PATHS),
        },
    }
    mounts = linux_changes.pop("mounts", None)
    if mounts is not None:
        spec["mounts"] = mounts
    spec["linux"].update(linux_changes)
    return {"mode": "init", "spec": spec}


_ELSEWHERE = {"destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind"]}
_OWN = {"destination": "/data", "type": "bind", "source": "/x/abc/data", "options": ["rbind"]}


@pytest.mark.parametrize(
    ("task", "staged"),
    [
        (_staged_task(), True),
        (
            _staged_task(mounts=[*oci.default_mounts(), {"destination": "/run", "type": "tmpfs", "source": "tmpfs"}]),
            True,
        ),
        (_staged_task(mounts=[*oci.default_mounts(), _ELSEWHERE]), False),  # a host mount made since would be missed
        (_staged_task(mounts=[*oci.default_mounts(), {**_ELSEWHERE, "source": "/x/abc/../../etc"}]), False),
        (_staged_task(mounts=[*oci.default_mounts(), {**_OWN, "destination": "/dev/fuse"}]), False),  # below /dev
        (_staged_task(mounts=[*oci.default_mounts(), {**_OWN, "type": "tmpfs", "options": ["rbind"]}]), False),
        (_staged_task(namespaces=[ns for ns in DEFAULT_NAMESPACES if ns["type"] != "mount"]), False),
        (_staged_task(mounts=oci.default_mounts(shm_size=1 << 30)), False),
        (_staged_task(mounts=oci.default_mounts(privileged=True)), False),
        (_staged_task(maskedPaths=[]), False),  # systempaths=unconfined
        (_staged_task(readonlyPaths=["/proc/sys"]), False),
        (_staged_task(namespaces=DEFAULT_NAMESPACES[:5]), False),  # the host's cgroup namespace
        (_staged_task(devices=[{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]), False),
        (_staged_task(sysctl={"net.ipv4.ip_forward": "1"}), False),
    ],
)
def test_only_a_task_with_dockers_system_mounts_and_its_own_files_takes_those_made_ahead(task, staged):
    assert sandbox.fits(_made_for("dockyard/abc"), {**task, "spec": {**task["spec"], "linux": {
        **task["spec"]["linux"], "cgroupsPath": "dockyard/abc"}}})  # fmt: skip
    assert sandbox.fits_staged(_made_for("dockyard/abc"), task) is staged


def _mountinfo(runtime, state_dir: Path, spec: dict) -> list[str]:
    """The task's /proc/self/mountinfo, each line from its mount point on (IDs dropped), in
    the kernel's order, the overlay's layer paths cut."""
    spec = {**spec, "process": {**spec["process"], "args": ["cat", "/proc/self/mountinfo"]}}
    code, out, err = run_task(runtime, state_dir, spec)
    assert (code, err) == (0, b"")
    runtime.delete(state_dir)
    return [" ".join(line.split()[4:]).partition("lowerdir=")[0] for line in out.decode().splitlines()]


@pytest.mark.root
def test_system_mounts_made_ahead_are_the_ones_made_at_start(runtime, tmp_path, rootfs, named):
    _warm(runtime, tmp_path, rootfs)
    spec = make_spec(rootfs, ["true"])
    (tmp_path / "plain").mkdir()
    made_at_start = _mountinfo(runtime, tmp_path / "plain", spec)
    waiting = _prepared(runtime, named)
    eventually(lambda: os.stat(f"/proc/{waiting}/ns/mnt").st_ino != os.stat("/proc/self/ns/mnt").st_ino,
               what="the sandbox's own mount namespace")  # fmt: skip
    assert sandbox.fits_staged(sandbox.Sandbox(str(named), "", 0, [], None), {"mode": "init", "spec": spec})
    made_ahead = _mountinfo(runtime, named, spec)
    assert sorted(made_ahead) == sorted(made_at_start)  # each mount, its options and propagation
    # the one difference: the system mounts, made first, come before the rootfs in the kernel's list
    assert made_at_start[0].startswith("/ ") and not made_ahead[0].startswith("/ ")
    assert any(line.startswith("/proc/keys ") for line in made_ahead)  # masked
    assert any(line.startswith("/proc/sys ro,") for line in made_ahead)  # read-only
    assert not any(" shared:" in line or " master:" in line for line in made_ahead)  # private


@pytest.mark.root
def test_a_rootfs_under_a_shared_mount_takes_the_system_mounts_privately(runtime, tmp_path, rootfs, named):
    """As on systemd's hosts, where / is shared: the rootfs handed over is a clone of a shared
    mount, and what is moved into it must not reach the host (nor pivot_root refuse it)."""
    _warm(runtime, tmp_path, rootfs)
    _prepared(runtime, named)
    subprocess.run(["mount", "--bind", str(rootfs), str(rootfs)], check=True)
    try:
        subprocess.run(["mount", "--make-shared", str(rootfs)], check=True)
        spec = make_spec(rootfs, ["sh", "-c", "grep -c . /proc/self/mountinfo >/dev/null && echo ok"])
        assert run_task(runtime, named, spec) == (0, b"ok\n", b"")
        runtime.delete(named)
        host = Path("/proc/self/mountinfo").read_text()
        assert f" {rootfs}/proc " not in host and f" {rootfs}/dev " not in host
    finally:
        subprocess.run(["umount", "-R", str(rootfs)], check=True)


@pytest.mark.root
def test_run_takes_the_sandbox_and_its_system_mounts(runtime, tmp_path, rootfs, named, tmp_path_factory):
    _warm(runtime, tmp_path, rootfs)
    waiting = _prepared(runtime, named)
    log = tmp_path / "task.log"
    spec = make_spec(rootfs, ["sh", "-c", "echo $$; grep -c ' /proc ' /proc/self/mountinfo"])
    pid, started_at = runtime.run(named, spec, IOConfig(log_path=log))
    assert pid == waiting and started_at
    assert runtime.wait(named, timeout=10).exit_code == 0
    assert [json.loads(line)["log"] for line in log.read_text().splitlines()] == ["1\n", "1\n"]
    runtime.delete(named)


@pytest.mark.root
def test_a_task_binding_a_host_path_sees_what_was_mounted_there_after_its_sandbox(runtime, tmp_path, rootfs, named):
    """Its sandbox's mount namespace was copied earlier: the task goes back to the host's."""
    _warm(runtime, tmp_path, rootfs)
    waiting = _prepared(runtime, named)
    volume = tmp_path / "volume"
    volume.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(volume)], check=True)
    try:
        (volume / "note").write_text("mounted after the sandbox\n")
        spec = make_spec(rootfs, ["cat", "/data/note"])
        spec["mounts"].append({"destination": "/data", "type": "bind", "source": str(volume), "options": ["rbind"]})
        assert runtime.create(named, spec, IOConfig()) == waiting  # the sandbox, not a new child
        sock = runtime.attach(named, False, True, True)
        runtime.start(named)
        assert collect(sock) == (b"mounted after the sandbox\n", b"")
        assert runtime.wait(named, timeout=10).exit_code == 0
        runtime.delete(named)
    finally:
        subprocess.run(["umount", str(volume)], check=True)

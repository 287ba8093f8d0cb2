"""The fast start-up path: shims forked by the fork-server (and a spare forked ahead), the child
started inside its v2 cgroup, and the order of an exit: waiters answered, then the release."""

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from dockyard.errors import RuntimeFailure
from dockyard.runtime.cgroups import hierarchy
from dockyard.runtime.cgroups.hierarchy import Hierarchy
from dockyard.runtime.client import ShimRuntime
from dockyard.runtime.runtime import IOConfig
from tests.polling import eventually
from tests.runtime.busybox import collect, make_spec, run_task


def test_unified_picks_the_path_inside_the_v2_hierarchy():
    hs = [Hierarchy("/sys/fs/cgroup/pids", 1, ("pids",)), Hierarchy("/sys/fs/cgroup/unified", 2, ())]
    paths = ["/sys/fs/cgroup/pids/dockyard/a", "/sys/fs/cgroup/unified/dockyard/a"]
    assert hierarchy.unified(hs, paths) == "/sys/fs/cgroup/unified/dockyard/a"
    assert hierarchy.unified(hs, paths[:1]) is None
    assert hierarchy.unified(hs[:1], paths) is None
    assert hierarchy.unified([Hierarchy("/sys/fs/cgroup", 2, ())], ["/sys/fs/cgroup"]) == "/sys/fs/cgroup"
    assert hierarchy.unified(hs, ["/sys/fs/cgroup/unified2/x"]) is None  # a prefix is not a parent


def test_join_writes_tasks_on_v1_and_cgroup_procs_on_v2(tmp_path):
    v1, v2 = tmp_path / "pids" / "box", tmp_path / "unified" / "box"
    for path, name in ((v1, "tasks"), (v2, "cgroup.procs")):
        path.mkdir(parents=True)
        (path / name).write_text("")
    hierarchy.join([str(v1), str(v2)])
    assert (v1 / "tasks").read_text() == "0"
    assert (v2 / "cgroup.procs").read_text() == "0"
    assert not (v1 / "cgroup.procs").exists()


def _members(pid: int) -> set[str]:
    return set(hierarchy.paths_of(pid, hierarchy.discover()))


@pytest.mark.root
def test_init_is_in_every_cgroup_of_the_task_and_the_shim_in_none(runtime, state_dir, rootfs):
    spec = make_spec(rootfs, ["sleep", "100"])
    relative = f"dockyard/startup-{os.getpid()}-{state_dir.parent.name}"
    spec["linux"]["cgroupsPath"] = relative
    pid = runtime.create(state_dir, spec, IOConfig())
    runtime.start(state_dir)
    expected = {os.path.join(h.path, relative) for h in hierarchy.discover()}
    assert _members(pid) == expected
    shim = int((state_dir / "shim.pid").read_text())
    assert not _members(shim) & expected
    runtime.kill(state_dir, signal.SIGKILL)
    assert runtime.wait(state_dir, timeout=10).exit_code == 137


@pytest.mark.root
def test_a_waiter_is_answered_before_the_task_cgroups_are_removed(runtime, state_dir, rootfs):
    """A host process kept in the task's cgroup makes its removal wait (EBUSY, up to 2 s):
    `wait` must not. The wait is sent before start (a later one would queue behind the
    removal in the single-threaded shim), and the task sleeps a little to be sure of it."""
    spec = make_spec(rootfs, ["sleep", "0.5"])
    relative = f"dockyard/release-{os.getpid()}-{state_dir.parent.name}"
    spec["linux"]["cgroupsPath"] = relative
    paths = [os.path.join(h.path, relative) for h in hierarchy.discover()]
    runtime.create(state_dir, spec, IOConfig())
    holder = subprocess.Popen(["sleep", "30"])
    try:
        hierarchy.write_file(os.path.join(paths[0], "cgroup.procs"), str(holder.pid))
        waited: list[tuple[int | None, float]] = []
        waiter = threading.Thread(
            target=lambda: waited.append((runtime.wait(state_dir, timeout=10).exit_code, time.monotonic()))
        )
        waiter.start()
        time.sleep(0.2)
        started = time.monotonic()
        runtime.start(state_dir)
        waiter.join(10)
        ((code, answered),) = waited
        assert code == 0 and answered - started < 2.2  # 0.5 s of sleep, not 2 s more of removal
    finally:
        holder.kill()
        holder.wait()
        runtime.delete(state_dir)  # answered once the shim's removal gave up on the busy one
        for path in paths:
            eventually(lambda path=path: _rmdir(path))


@pytest.mark.root
def test_delete_returns_once_the_task_cgroups_are_released(runtime, state_dir, rootfs):
    """The daemon deletes a task before it makes the next one in its place: the shim answers
    only after its release, here slowed by a host process in the last cgroup (EBUSY, 2 s)."""
    spec = make_spec(rootfs, ["true"])
    relative = f"dockyard/delete-{os.getpid()}-{state_dir.parent.name}"
    spec["linux"]["cgroupsPath"] = relative
    paths = [os.path.join(h.path, relative) for h in hierarchy.discover()]
    runtime.create(state_dir, spec, IOConfig())  # never started
    holder = subprocess.Popen(["sleep", "30"])
    try:
        hierarchy.write_file(os.path.join(paths[-1], "cgroup.procs"), str(holder.pid))
        started = time.monotonic()
        runtime.delete(state_dir)
        assert time.monotonic() - started > 1.5
        assert not any(os.path.exists(path) for path in paths[:-1])
    finally:
        holder.kill()
        holder.wait()
        for path in paths:
            eventually(lambda path=path: _rmdir(path))


def _rmdir(path: str) -> bool:
    try:
        os.rmdir(path)
    except FileNotFoundError:
        pass
    except OSError:
        return False
    return True


@pytest.mark.root
def test_shim_is_forked_by_the_fork_server_into_a_session_of_its_own(runtime, state_dir, rootfs):
    runtime.create(state_dir, make_spec(rootfs, ["sleep", "100"]), IOConfig())
    shim = int((state_dir / "shim.pid").read_text())
    status = Path(f"/proc/{shim}/stat").read_text().rsplit(")", 1)[1].split()
    parent, session = int(status[1]), int(status[3])
    assert parent == runtime.zygote._proc.pid != os.getpid()
    assert session == shim
    assert Path(f"/proc/{shim}/comm").read_text().strip() == "dockyard-shim"
    runtime.kill(state_dir, signal.SIGKILL)
    runtime.wait(state_dir, timeout=10)


@pytest.mark.root
def test_tasks_outlive_the_fork_server_and_a_new_one_takes_over(runtime, state_dir, rootfs):
    runtime.create(state_dir, make_spec(rootfs, ["sh", "-c", "sleep 0.3; echo done"]), IOConfig())
    first = runtime.zygote._proc
    first.kill()
    first.wait()
    sock = runtime.attach(state_dir, False, True, True)
    runtime.start(state_dir)
    assert collect(sock) == (b"done\n", b"")
    assert runtime.wait(state_dir, timeout=10).exit_code == 0
    other = state_dir.parent / "other"
    assert run_task(runtime, other, make_spec(rootfs, ["echo", "again"]))[:2] == (0, b"again\n")
    assert runtime.zygote._proc.pid != first.pid
    runtime.delete(other)


@pytest.mark.root
def test_closing_the_runtime_stops_the_fork_server(runtime, state_dir, rootfs):
    assert run_task(runtime, state_dir, make_spec(rootfs, ["true"]))[0] == 0
    server = runtime.zygote._proc
    runtime.close()
    assert server.poll() is not None


def _spares(server: int) -> set[int]:
    """The fork server's children that wait for a task: a shim's cwd is its state directory."""
    found: set[int] = set()
    for task in Path(f"/proc/{server}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                if os.readlink(f"/proc/{child}/cwd") == "/":
                    found.add(int(child))
            except FileNotFoundError:  # exited meanwhile
                pass
    return found


def _gone(pid: int) -> bool:
    """Exited: no /proc entry, or a zombie (where PID 1 does not reap the orphans it inherits)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


@pytest.mark.root
def test_an_idle_fork_server_forks_the_next_shim_ahead_and_it_runs_the_next_task(runtime, state_dir, rootfs):
    first = state_dir.parent / "first"
    assert run_task(runtime, first, make_spec(rootfs, ["true"]))[0] == 0
    runtime.delete(first)
    server = runtime.zygote._proc.pid
    eventually(lambda: len(_spares(server)) == 1)  # forked once the server idles
    (spare,) = _spares(server)
    eventually(lambda: Path(f"/proc/{spare}/comm").read_text().strip() == "dockyard-shim")
    runtime.create(state_dir, make_spec(rootfs, ["echo", "from the spare"]), IOConfig())
    assert int((state_dir / "shim.pid").read_text()) == spare
    sock = runtime.attach(state_dir, False, True, True)
    runtime.start(state_dir)
    assert collect(sock) == (b"from the spare\n", b"")
    assert runtime.wait(state_dir, timeout=10).exit_code == 0
    eventually(lambda: len(_spares(server)) == 1)  # and the next spare follows
    (following,) = _spares(server)
    assert following != spare
    runtime.close()
    eventually(lambda: _gone(following))  # a spare leaves with its server


@pytest.mark.root
def test_a_spare_that_died_is_replaced_by_a_shim_forked_on_demand(runtime, state_dir, rootfs):
    assert run_task(runtime, state_dir.parent / "warm", make_spec(rootfs, ["true"]))[0] == 0
    server = runtime.zygote._proc.pid
    eventually(lambda: len(_spares(server)) == 1)
    (spare,) = _spares(server)
    os.kill(spare, signal.SIGKILL)
    eventually(lambda: _gone(spare))
    assert run_task(runtime, state_dir, make_spec(rootfs, ["echo", "ok"]))[:2] == (0, b"ok\n")


@pytest.mark.root
def test_create_takes_little_time_once_the_fork_server_runs(runtime, tmp_path, rootfs):
    run_task(runtime, tmp_path / "warm", make_spec(rootfs, ["true"]))
    timings = []
    for i in range(5):
        started = time.monotonic()
        runtime.create(tmp_path / f"t{i}", make_spec(rootfs, ["true"]), IOConfig())
        timings.append(time.monotonic() - started)
        runtime.start(tmp_path / f"t{i}")
        runtime.wait(tmp_path / f"t{i}", timeout=10)
        runtime.delete(tmp_path / f"t{i}")
    assert sorted(timings)[2] < 0.15  # loose for a shared 2-core box; typically 10-20 ms


def test_a_fork_server_that_cannot_start_fails_create_cleanly(state_dir, rootfs):
    runtime = ShimRuntime(python="/nonexistent/python3")
    with pytest.raises(RuntimeFailure, match="failed to create task: cannot start the shim fork-server"):
        runtime.create(state_dir, make_spec(rootfs, ["true"]), IOConfig())
    assert list(state_dir.iterdir()) == []


def _faults_of_a_forked_child(populate: bool, stop_readable: bool) -> int:
    """Minor faults a forked child takes to write every object of a large list it shares with
    this process, after populate_private_memory (with a stop fd readable or not), or without."""
    import resource
    import struct

    from dockyard.runtime import syscalls as sc

    shared = [[i] for i in range(200_000)]  # ~20 MiB of objects the child will write
    stop_r, stop_w = os.pipe()
    result_r, result_w = os.pipe()
    if stop_readable:
        os.write(stop_w, b"x")
    pid = os.fork()
    if pid == 0:
        os.close(result_r)
        try:
            if populate:
                sc.populate_private_memory(stop_r)
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            for item in shared:
                item[0] += 1
            after = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            os.write(result_w, struct.pack("q", after - before))
        finally:
            os._exit(0)
    os.close(result_w)  # a child that fails before it writes: EOF, not a hang
    reply = os.read(result_r, 8)
    os.waitpid(pid, 0)
    for fd in (stop_r, stop_w, result_r):
        os.close(fd)
    (faults,) = struct.unpack("q", reply)
    return faults


@pytest.mark.skipif(
    tuple(int(part) for part in os.uname().release.split(".")[:2]) < (5, 14), reason="MADV_POPULATE_WRITE: Linux 5.14"
)
def test_populated_memory_spares_a_forked_child_its_copy_on_write_faults():
    plain = _faults_of_a_forked_child(populate=False, stop_readable=False)
    populated = _faults_of_a_forked_child(populate=True, stop_readable=False)
    stopped = _faults_of_a_forked_child(populate=True, stop_readable=True)
    assert plain > 2000  # the list's pages, copied one fault at a time
    assert populated < plain / 10
    assert stopped > plain / 2  # a readable stop fd ends it before the first mapping

"""The daemon reserves the next container's ID and has its init made ahead while it idles
(runtime/sandbox.py): the next create takes that ID, its start that init; a container that
could not use it takes a fresh ID; one removed before its start leaves no cgroup behind."""

from __future__ import annotations

from pathlib import Path

from dockyard.runtime.cgroups import hierarchy
from tests.polling import eventually

PIDS = next(Path(h.path) for h in hierarchy.discover() if "pids" in h.controllers or h.version == 2)


def _cgroups() -> set[str]:
    return {p.name for p in (PIDS / "dockyard").iterdir() if p.is_dir()} if (PIDS / "dockyard").is_dir() else set()


def _members(name: str) -> list[int]:
    try:
        return [int(p) for p in (PIDS / "dockyard" / name / "cgroup.procs").read_text().split()]
    except FileNotFoundError:
        return []


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
    except (FileNotFoundError, IndexError):
        return 0


def _reserved(daemon, before: set[str], known: set[str]) -> str:
    """The cgroup of the sandbox made for the reserved ID: new, no container's, one process in
    it, the child of a spare shim of this daemon's fork server (other daemons may run)."""
    found: list[str] = []

    def ours(name: str) -> bool:
        members = _members(name)
        return len(members) == 1 and _parent(_parent(_parent(members[0]))) == daemon.process.pid

    def made() -> bool:
        found[:] = [n for n in _cgroups() - before - known if ours(n)]
        return len(found) == 1

    eventually(made, timeout=10, what="the sandbox for the next container's ID")
    return found[0]


def test_the_next_container_takes_the_reserved_id_and_starts_on_its_init(daemon):
    daemon.cli("run", "--rm", "busybox", "true")  # the fork server runs from the first start
    before = _cgroups()
    first = daemon.cli("create", "busybox", "true").stdout.strip()
    created = [first]
    try:
        reserved = _reserved(daemon, before, {first})
        (waiting,) = _members(reserved)
        host_only = daemon.cli("create", "--network", "host", "busybox", "true").stdout.strip()
        created.append(host_only)
        assert host_only != reserved  # it could not use the sandbox: a fresh ID
        second = daemon.cli("create", "busybox", "sleep", "30").stdout.strip()
        created.append(second)
        assert second == reserved
        daemon.cli("start", second)
        assert daemon.inspect(second)["State"]["Pid"] == waiting
        assert daemon.cli("exec", second, "cat", "/proc/1/comm").stdout.strip() == "sleep"  # PID 1 of its own
    finally:
        daemon.cli("rm", "-f", *created)


def test_a_container_removed_before_its_start_leaves_no_cgroup(daemon):
    daemon.cli("run", "--rm", "busybox", "true")
    before = _cgroups()
    first = daemon.cli("create", "busybox", "true").stdout.strip()
    try:
        reserved = _reserved(daemon, before, {first})
        second = daemon.cli("create", "busybox", "true").stdout.strip()
        assert second == reserved and _members(second)
        daemon.cli("rm", second)
        assert second not in _cgroups()  # gone when rm returns
    finally:
        daemon.cli("rm", "-f", first)


def test_a_create_that_fails_leaves_the_reserved_id_to_the_next(daemon):
    daemon.cli("run", "--rm", "busybox", "true")
    name = f"taken-{id(daemon)}"
    before = _cgroups()
    first = daemon.cli("create", "--name", name, "busybox", "true").stdout.strip()
    try:
        reserved = _reserved(daemon, before, {first})
        refused = daemon.cli("create", "--name", name, "busybox", "true", check=False)
        assert refused.returncode != 0 and "already in use" in refused.stderr
        second = daemon.cli("create", "busybox", "true").stdout.strip()
        assert second == reserved
        daemon.cli("rm", second)
    finally:
        daemon.cli("rm", "-f", first)

"""The CLI workloads of bench/all.py, each a function over the columns (see harness.py).

    run_rm        run --rm busybox true
    run_detached  run -d busybox sleep 3600, timed; the container removed untimed afterwards
    exec_true     exec <a running container> true
    ps_many       ps with `count` containers running on each engine (the same rows for both CLIs)
    memory        the daemons' RSS when idle, and each container's shim RSS (no timing)

A workload returns one or more `Row`s. Containers it starts are removed before it returns;
the engines themselves belong to the caller (run.engines).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from harness import MIB, MS, Row, Settle, Target, clocked, interleave, run, timed

SLEEPER = ("busybox", "sleep", "3600")


def by_engine(targets: Sequence[Target]) -> dict[str, Target]:
    """One target per engine, to set up and tear down what all its columns share."""
    chosen: dict[str, Target] = {}
    for target in targets:
        chosen.setdefault(target.engine, target)
    return chosen


def remove(target: Target, ids: Sequence[str]) -> None:
    if ids:
        run(target, "rm", "-f", *ids)


def run_rm(targets: Sequence[Target], rounds: int, settle: Settle) -> Row:
    interleave(1, targets, lambda t: timed(settle, t, "run", "--rm", "busybox", "true"))  # warm-up
    samples = interleave(rounds, targets, lambda t: timed(settle, t, "run", "--rm", "busybox", "true"))
    return Row("`run --rm busybox true`", MS, samples, "≤ 0.25x via both")


def run_detached(targets: Sequence[Target], rounds: int, settle: Settle) -> Row:
    def measure(target: Target) -> float:
        elapsed, output = clocked(settle, target, "run", "-d", *SLEEPER)
        remove(target, [output.strip()])
        return elapsed

    samples = interleave(rounds, targets, measure)
    return Row("`run -d busybox sleep 3600`", MS, samples, "≤ 0.25x")


def exec_true(targets: Sequence[Target], rounds: int, settle: Settle) -> Row:
    running = {engine: run(t, "run", "-d", *SLEEPER).stdout.strip() for engine, t in by_engine(targets).items()}
    try:
        interleave(1, targets, lambda t: timed(settle, t, "exec", running[t.engine], "true"))  # warm-up
        samples = interleave(rounds, targets, lambda t: timed(settle, t, "exec", running[t.engine], "true"))
    finally:
        for engine, target in by_engine(targets).items():
            remove(target, [running[engine]])
    return Row("`exec <running> true`", MS, samples, "≤ 0.5x via both")


def start_many(target: Target, count: int) -> list[str]:
    return [run(target, "run", "-d", *SLEEPER).stdout.strip() for _ in range(count)]


def ps_many(targets: Sequence[Target], rounds: int, settle: Settle) -> Row:
    """`ps` on engines already running many containers (start_many); every column must list as many."""
    rows = {t.key: len(run(t, "ps", "-q").stdout.split()) for t in targets}
    if len(set(rows.values())) != 1:
        raise RuntimeError(f"ps lists different numbers of rows per column: {rows}")
    interleave(1, targets, lambda t: timed(settle, t, "ps"))
    samples = interleave(rounds, targets, lambda t: timed(settle, t, "ps"))
    count = next(iter(rows.values()))
    return Row(f"`ps` with {count} running", MS, samples, "≤ 1x via both", note=f"{count} rows in every column")


# -- memory ---------------------------------------------------------------------------------


def rss(pid: int) -> int:
    """Resident set size of one process, in bytes; 0 once it has exited."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):  # exited meanwhile
        return b""


def _cwd(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/cwd")
    except (FileNotFoundError, ProcessLookupError):
        return ""


def dockyard_shims(data_root: Path) -> list[int]:
    """The shim of each running dockyard container (its pid file's directory is its cwd)."""
    pids = []
    for pid_file in data_root.glob("containers/*/**/shim.pid"):
        pid = int(pid_file.read_text().split()[0])
        if os.readlink(f"/proc/{pid}/cwd") == str(pid_file.parent):
            pids.append(pid)
    return pids


def dockerd_shims(base: Path) -> list[int]:
    """containerd-shim processes serving the reference dockerd under `base`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"containerd-shim" in argv[0] and any(str(base).encode() in arg for arg in argv):
            pids.append(int(entry.name))
    return pids


def daemon_rss(engine: str, pid: int) -> tuple[int, str]:
    """Bytes the daemon holds: dockyard's with its shim fork-server, the spare shims that one
    keeps and the init a spare holds ahead for the next container (RSS summed, though they
    share most pages); dockerd with the containerd it runs."""
    if engine == "dockyard":
        servers = [c for c in children(pid) if b"dockyard.runtime.zygote" in _cmdline(c)]
        spares = [s for server in servers for s in children(server) if _cwd(s) == "/"]
        held = [c for spare in spares for c in children(spare)]
        helpers = servers + spares + held
        return (
            rss(pid) + sum(rss(c) for c in helpers),
            "the daemon + its shim fork-server + its spare shims + the init one holds ahead",
        )
    helpers = [c for c in children(pid) if b"containerd" in Path(f"/proc/{c}/cmdline").read_bytes().split(b"\0")[0]]
    return rss(pid) + sum(rss(c) for c in helpers), "dockerd + its containerd"


def cli_server_rss(directory: str) -> int:
    """Bytes the dockyard launcher's warm CLI servers hold (their pid files are in `directory`)."""
    return sum(rss(int(p.read_text())) for p in Path(directory).glob("*.sock.pid"))


def memory_rows(idle: dict[str, tuple[int, str]], shims: dict[str, list[int]], cli_server: int) -> list[Row]:
    """Rows from the caller's measurements: engine -> (idle daemon RSS, what it sums), engine ->
    shim RSSes, and the RSS of dockyard's resident CLI server."""
    columns = {"dockerd": "docker", "dockyard": "dockyard"}
    daemon = Row(
        "daemon RSS, idle",
        MIB,
        {columns[e]: [float(v)] for e, (v, _) in idle.items()},
        "keep ahead",
        note="; ".join(f"{columns[e]}: {what}" for e, (_, what) in idle.items()),
    )
    shim = Row(
        "RSS per container shim",
        MIB,
        {columns[e]: [float(v) for v in sizes] for e, sizes in shims.items() if sizes},
        "keep ahead",
        note="median (min–max) over the running containers' shims",
    )
    server = Row(
        "dockyard CLI server RSS, idle",
        MIB,
        {"dockyard": [float(cli_server)]},
        "reported",
        note="the warm interpreter the `dockyard` launcher hands commands to (decision 0085); the Go CLI keeps none",
    )
    return [daemon, shim, server]

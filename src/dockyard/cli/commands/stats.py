"""`dockyard stats [-a] [--no-stream] [--no-trunc] [--format FORMAT] [CONTAINER...]`."""

from __future__ import annotations

import sys
import time

from dockyard.cli.client import path_id
from dockyard.cli.flags import Parser
from dockyard.cli.tables import render
from dockyard.errors import DockyardError
from dockyard.units import binary_size, human_size, truncate_id

DEFAULT_FORMAT = (
    "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"
)
HEADERS = {
    "ID": "CONTAINER ID",
    "Container": "CONTAINER",
    "Name": "NAME",
    "CPUPerc": "CPU %",
    "MemUsage": "MEM USAGE / LIMIT",
    "MemPerc": "MEM %",
    "NetIO": "NET I/O",
    "BlockIO": "BLOCK I/O",
    "PIDs": "PIDS",
}


def cpu_percent(stats: dict) -> float:
    """Docker's CPU %: container delta over system delta, times online CPUs."""
    cpu, pre = stats.get("cpu_stats") or {}, stats.get("precpu_stats") or {}
    cpu_delta = (cpu.get("cpu_usage") or {}).get("total_usage", 0) - (pre.get("cpu_usage") or {}).get("total_usage", 0)
    system_delta = (cpu.get("system_cpu_usage") or 0) - (pre.get("system_cpu_usage") or 0)
    online = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or []) or 1
    if system_delta > 0 and cpu_delta > 0:
        return cpu_delta / system_delta * online * 100.0
    return 0.0


def memory(stats: dict) -> tuple[float, float]:
    """(usage without page cache, limit) as docker computes them for cgroup v1 and v2."""
    mem = stats.get("memory_stats") or {}
    usage, details = mem.get("usage") or 0, mem.get("stats") or {}
    cache = details.get("total_inactive_file", details.get("inactive_file", 0)) or 0
    return (usage - cache if cache < usage else usage), mem.get("limit") or 0


def io_totals(stats: dict) -> tuple[int, int, int, int]:
    """(net rx, net tx, block read, block write) in bytes."""
    nets = (stats.get("networks") or {}).values()
    rx, tx = sum(n.get("rx_bytes", 0) for n in nets), sum(n.get("tx_bytes", 0) for n in nets)
    entries = (stats.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []
    read = sum(e.get("value", 0) for e in entries if (e.get("op") or "").lower() == "read")
    write = sum(e.get("value", 0) for e in entries if (e.get("op") or "").lower() == "write")
    return rx, tx, read, write


def stats_row(stats: dict, ref: str, trunc: bool = True) -> dict:
    """One table row from a stats sample, formatted like `docker stats`."""
    used, limit = memory(stats)
    rx, tx, read, write = io_totals(stats)
    ident = stats.get("id", ref)
    return {
        "ID": truncate_id(ident) if trunc else ident,
        "Container": ref,
        "Name": (stats.get("name") or ref).lstrip("/"),
        "CPUPerc": f"{cpu_percent(stats):.2f}%",
        "MemUsage": f"{binary_size(used)} / {binary_size(limit)}",
        "MemPerc": f"{used / limit * 100 if limit else 0:.2f}%",
        "NetIO": f"{human_size(rx, 3)} / {human_size(tx, 3)}",
        "BlockIO": f"{human_size(read, 3)} / {human_size(write, 3)}",
        "PIDs": str((stats.get("pids_stats") or {}).get("current", 0)),
    }


def sample(client, refs: list[str], trunc: bool) -> list[dict]:
    rows = []
    for ref in refs:
        try:
            rows.append(stats_row(client.get(f"/containers/{path_id(ref)}/stats", {"stream": False}), ref, trunc))
        except DockyardError as exc:
            sys.stderr.write(f"Error response from daemon: {exc}\n")
    return rows


def main(ctx, argv: list[str]) -> int:
    parser = Parser(
        ctx.prog, "[OPTIONS] [CONTAINER...]", "Display a live stream of container(s) resource usage statistics"
    )
    parser.add_argument("-a", "--all", action="store_true")
    parser.add_argument("--no-stream", action="store_true")
    parser.add_argument("--no-trunc", action="store_true")
    parser.add_argument("--format")
    parser.add_argument("containers", nargs="*")
    ns = parser.parse(argv)
    fmt = ns.format if ns.format not in (None, "", "table") else DEFAULT_FORMAT
    while True:
        refs = ns.containers or [c["Id"] for c in ctx.client.get("/containers/json", {"all": ns.all or None}) or []]
        text = render(fmt, sample(ctx.client, refs, not ns.no_trunc), HEADERS)
        if ns.no_stream:
            sys.stdout.write(text)
            return 0
        sys.stdout.write("\x1b[2J\x1b[H" + text)
        sys.stdout.flush()
        time.sleep(1)

"""`dockyard update [OPTIONS] CONTAINER...`: new resource limits or restart policy."""

from __future__ import annotations

import sys

from dockyard.cli.batch import each
from dockyard.cli.client import path_id
from dockyard.cli.flags import Parser
from dockyard.cli.runopts import parse_restart
from dockyard.units import ram_in_bytes

FLAGS = (  # flag, HostConfig key, value type (docker update's set)
    ("--blkio-weight", "BlkioWeight", int),
    ("--cpu-period", "CpuPeriod", int),
    ("--cpu-quota", "CpuQuota", int),
    ("--cpu-rt-period", "CpuRealtimePeriod", int),
    ("--cpu-rt-runtime", "CpuRealtimeRuntime", int),
    ("--cpu-shares", "CpuShares", int),
    ("--cpuset-cpus", "CpusetCpus", str),
    ("--cpuset-mems", "CpusetMems", str),
    ("--memory", "Memory", ram_in_bytes),
    ("--memory-reservation", "MemoryReservation", ram_in_bytes),
    ("--pids-limit", "PidsLimit", int),
)


def _swap(value: str) -> int:
    return -1 if value == "-1" else ram_in_bytes(value)


def body_of(ns) -> dict:
    """The update request body for the parsed flags (only those given)."""
    body: dict = {}
    for flag, key, _ in FLAGS:
        value = getattr(ns, flag[2:].replace("-", "_"))
        if value is not None:
            body[key] = value
    if ns.memory_swap is not None:
        body["MemorySwap"] = ns.memory_swap
    if ns.cpus is not None:
        body["NanoCpus"] = round(ns.cpus * 1e9)
    if ns.restart is not None:
        body["RestartPolicy"] = parse_restart(ns.restart)
    return body


def main(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "[OPTIONS] CONTAINER [CONTAINER...]", "Update configuration of one or more containers")
    for flag, _, kind in FLAGS:
        names = {"--cpu-shares": ("-c", flag), "--memory": ("-m", flag)}.get(flag, (flag,))
        parser.add_argument(*names, type=kind, default=None)
    parser.add_argument("--memory-swap", type=_swap, default=None)
    parser.add_argument("--cpus", type=float, default=None)
    parser.add_argument("--restart", default=None)
    parser.add_argument("containers", nargs="+")
    ns = parser.parse(argv)
    body = body_of(ns)

    def update(ref: str) -> None:
        reply = ctx.client.json("POST", f"/containers/{path_id(ref)}/update", body=body) or {}
        for warning in reply.get("Warnings") or []:
            sys.stderr.write(f"WARNING: {warning}\n")

    return each(ns.containers, update)

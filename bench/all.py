"""Every workload of issue 14 side by side: dockerd, and dockyard through its own CLI and the docker CLI.

    python bench/all.py                 # the full run (tens of minutes on a quiet 2-core machine)
    python bench/all.py --quick         # few rounds, a small image: a smoke run in a few minutes
    python bench/all.py --only run-rm,exec --no-dockerd --out /tmp/table.md

Workloads (`--only` names), in the order run:

    memory   daemon RSS when idle; later, the RSS of each shim while the ps containers run
    run-rm   run --rm busybox true
    run-d    run -d busybox sleep 3600 (the container removed untimed afterwards)
    exec     exec <running> true
    ps       ps with --ps-count containers running on each engine: the same rows in every column
    pull     cold pull of --pull-layers generated layers from a docker-registry on loopback
    http     HTTP through `-p` (small / 1 MiB bodies), as a share of the same httpd host-direct

The CLI workloads run against a dockyard daemon (run.engines: a temporary root, no bridge) and,
where Debian's dockerd is installed, a reference dockerd confined the same way; `http` starts
its own daemons in network namespaces (network_publish.py). Rounds interleave the columns,
rotating their order; before each timed command: `sync`, wait for Dirty + Writeback to drain,
then --settle seconds. Cells are median (min–max), with each dockyard median's ratio to
dockerd's. Writes the markdown table with every round to --out (bench/results/latest.md).
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent / "src"), str(BENCH.parent), str(BENCH)]

import network_publish  # noqa: E402
import run  # noqa: E402
import verbs  # noqa: E402
from harness import SHARE, Row, Settle, Target, rounds_text, table  # noqa: E402
from harness import run as run_command  # noqa: E402

WORKLOADS = ("memory", "run-rm", "run-d", "exec", "ps", "pull", "http")
RESULTS = BENCH / "results" / "latest.md"


@dataclass(frozen=True, slots=True)
class Plan:
    """How much of each workload to run."""

    only: tuple[str, ...]
    rounds: int  # per CLI row
    ps_count: int
    pull_rounds: int
    pull_layers: int
    pull_mb: int
    http_rounds: int
    http_requests: int
    settle: Settle
    dockerd: bool
    quick: bool


def plan_from(args: argparse.Namespace) -> Plan:
    quick = args.quick

    def pick(value: int | None, full: int, fast: int) -> int:
        return value if value is not None else (fast if quick else full)

    only = tuple(args.only.split(",")) if args.only else WORKLOADS
    unknown = set(only) - set(WORKLOADS)
    if unknown:
        raise SystemExit(f"unknown workload(s) {sorted(unknown)}; choose from {', '.join(WORKLOADS)}")
    return Plan(
        only,
        pick(args.rounds, 15, 3),
        pick(args.ps_count, 100, 25),
        pick(args.pull_rounds, 7, 2),
        8,
        pick(args.pull_mb, 330, 40),
        pick(args.http_rounds, 7, 2),
        pick(args.http_requests, 2000, 300),
        Settle(args.settle if args.settle is not None else (0.05 if quick else 0.2)),
        not args.no_dockerd and shutil.which("dockerd") is not None,
        quick,
    )


def cli_rows(plan: Plan) -> list[Row]:
    """Every workload that goes through the CLIs, on one pair of engines."""
    rows: list[Row] = []
    with run.engines(plan.dockerd) as (dockyard, dockerd):
        targets = run.targets(dockyard, dockerd)
        run.check_like_for_like(dockyard, dockerd)
        daemons = {"dockyard": dockyard.process.pid} | ({"dockerd": dockerd.process.pid} if dockerd else {})
        for target in targets:  # idle as between runs: dockyard's spares and the init made ahead there
            run_command(target, "run", "--rm", "busybox", "true")
        time.sleep(1)
        idle = {engine: verbs.daemon_rss(engine, pid) for engine, pid in daemons.items()}
        cli_server = verbs.cli_server_rss(os.environ["DOCKYARD_CLI_DIR"])
        if "run-rm" in plan.only:
            rows.append(verbs.run_rm(targets, plan.rounds, plan.settle))
        if "run-d" in plan.only:
            rows.append(verbs.run_detached(targets, plan.rounds, plan.settle))
        if "exec" in plan.only:
            rows.append(verbs.exec_true(targets, plan.rounds, plan.settle))
        if "ps" in plan.only or "memory" in plan.only:
            rows += with_many_running(plan, targets, idle, cli_server, dockyard.data_root, dockerd)
        if "pull" in plan.only:
            rows.append(pull_row(plan, targets))
    return rows


def with_many_running(
    plan: Plan,
    targets: list[Target],
    idle: dict[str, tuple[int, str]],
    cli_server: int,
    data_root: Path,
    dockerd: run.Dockerd | None,
) -> list[Row]:
    """ps (and the shims' RSS) with plan.ps_count containers running on each engine."""
    engines = verbs.by_engine(targets)
    running = {engine: verbs.start_many(target, plan.ps_count) for engine, target in engines.items()}
    try:
        rows = [verbs.ps_many(targets, plan.rounds, plan.settle)] if "ps" in plan.only else []
        if "memory" in plan.only:
            shims = {"dockyard": verbs.dockyard_shims(data_root)}
            if dockerd is not None:
                shims["dockerd"] = verbs.dockerd_shims(dockerd.base)
            sizes = {engine: [verbs.rss(pid) for pid in pids] for engine, pids in shims.items()}
            rows += verbs.memory_rows(idle, sizes, cli_server)
        return rows
    finally:
        for engine, target in engines.items():
            verbs.remove(target, running[engine])


def pull_row(plan: Plan, targets: list[Target]) -> Row:
    import cold_pull  # imports the distribution code only when pulling

    with tempfile.TemporaryDirectory(prefix="bench-all-pull-", dir="/var/tmp") as work:
        count = plan.pull_rounds * len(targets)
        with cold_pull.served_images(Path(work), plan.pull_layers, plan.pull_mb, count) as images:
            return cold_pull.cold_pull(targets, plan.pull_rounds, plan.settle, images)


def http_rows(plan: Plan) -> list[Row]:
    """Share of host-direct through `-p`, dockyard's DNAT and dockerd's defaults (docker-proxy)."""
    tag = secrets.token_hex(3)
    makers = {"dockyard": network_publish.dockyard_site} | (
        {"docker": network_publish.docker_site} if plan.dockerd else {}
    )
    with network_publish.www_root() as www, contextlib.ExitStack() as stack:
        sites = [stack.enter_context(make(www, 1500, tag)) for make in makers.values()]
        found = network_publish.shares(sites, plan.http_rounds, plan.http_requests, 8)
    rows = []
    for body, name in (("small.txt", "small"), ("big.bin", "1 MiB")):
        cells = {label: found[(label, body)] for label in makers}
        rows.append(
            Row(
                f"HTTP through `-p`, {name}, share of host-direct",
                SHARE,
                {label: cell["published"] for label, cell in cells.items()},
                "≥ 95%" if name == "small" else "≥ 90%",
                note="ab -c 8 on the host, new connection per request; to the container by its IP (no -p): "
                + ", ".join(f"{label} {SHARE.show(statistics.median(cell['by-ip']))}" for label, cell in cells.items()),
            )
        )
    return rows


def describe_machine(plan: Plan) -> list[str]:
    def version(argv: list[str]) -> str:
        result = subprocess.run(argv, capture_output=True, text=True)
        return (result.stdout or result.stderr).strip().splitlines()[0] if result.returncode == 0 else "?"

    cli = run.dockyard_cli()[0]
    lines = [
        f"- {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}, kernel {platform.release()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start",
        f"- dockyard CLI measured: `{cli}` -> `{os.path.realpath(cli)}` (the launcher and its warm CLI server, "
        "started by the warm-up: decision 0085)",
        f"- docker CLI: `{run.DOCKER}` ({version([run.DOCKER, '--version'])})",
        f"- reference: {version(['dockerd', '--version']) if plan.dockerd else 'none (not installed or --no-dockerd)'}",
        f"- workloads: {', '.join(plan.only)}; {plan.rounds} rounds per CLI row (after one untimed warm-up)"
        + (f", {plan.pull_rounds} cold pulls per column" if "pull" in plan.only else "")
        + (
            f", {plan.http_rounds} HTTP rounds of {plan.http_requests} requests per body and URL"
            if "http" in plan.only
            else ""
        ),
        f"- before each timed command: sync, Dirty + Writeback drained, then {plan.settle.pause} s",
    ]
    return lines


def render(plan: Plan, header: list[str], rows: list[Row]) -> str:
    notes = [f"- {row.name}: {row.note}" for row in rows if row.note]
    return "\n".join(
        [
            "# dockyard vs dockerd: every workload of issue 14",
            "",
            "Written by `python bench/all.py" + (" --quick" if plan.quick else "") + "`; cells are median "
            "(min–max); **bold** is dockyard's median over dockerd's (below 1: dockyard faster).",
            "",
            *header,
            "",
            table(rows),
            "",
            "Notes:",
            *notes,
            "",
            "Every round:",
            rounds_text(rows),
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few rounds and a small image (a smoke run)")
    parser.add_argument("--only", help=f"comma-separated workloads of {', '.join(WORKLOADS)}")
    parser.add_argument("--rounds", type=int, help="rounds per CLI row (15; quick 3)")
    parser.add_argument("--ps-count", type=int, help="containers running for ps (100; quick 25)")
    parser.add_argument(
        "--pull-rounds", type=int, help="cold pulls per column (7, each of an image of its own; quick 2)"
    )
    parser.add_argument("--pull-mb", type=int, help="MB of tar over 8 layers (330; quick 40)")
    parser.add_argument("--http-rounds", type=int, help="(7; quick 2)")
    parser.add_argument("--http-requests", type=int, help="requests per measurement (2000; quick 300)")
    parser.add_argument("--settle", type=float, help="seconds to wait after sync (0.2; quick 0.05)")
    parser.add_argument("--no-dockerd", action="store_true", help="measure dockyard only")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    plan = plan_from(args)
    # as an install does: a shell with PYTHONDONTWRITEBYTECODE would otherwise time the CLI
    # recompiling every module edited since scripts/setup.sh compiled them
    compileall.compile_dir(BENCH.parent / "src", quiet=1)
    header = describe_machine(plan)
    rows = cli_rows(plan) if set(plan.only) - {"http"} else []
    if "http" in plan.only:
        rows += http_rows(plan)
    header.append(f"- load average {os.getloadavg()[0]:.2f} at the end")
    text = render(plan, header, rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()

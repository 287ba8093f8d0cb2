"""What every workload of bench/all.py shares: the columns, the settle before a timed command,
interleaved rounds, and the statistics and markdown of one table row.

A column is a `Target`: a CLI (argv prefix and environment) talking to one engine:

    docker      the docker CLI -> the reference dockerd
    dockyard    the dockyard CLI (as found on PATH) -> dockyard
    docker->dy  the docker CLI -> dockyard

Rounds are interleaved: round r runs the targets in an order rotated by r, so load on a
shared machine falls on each column alike, and no column always goes first.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

COLUMNS = ("docker", "dockyard", "docker->dy")
HEADINGS = {"docker": "docker → dockerd", "dockyard": "dockyard CLI → dockyard", "docker->dy": "docker CLI → dockyard"}
DRAINED_KB = 4096


@dataclass(frozen=True, slots=True)
class Target:
    """One column: `argv` (the CLI, with any -H) run with `env`, against `engine`."""

    key: str
    argv: tuple[str, ...]
    env: Mapping[str, str] | None = None
    engine: str = "dockyard"

    def command(self, *args: str) -> list[str]:
        return [*self.argv, *args]


def dirty_kb() -> int:
    """Dirty + Writeback from /proc/meminfo, in kB."""
    with open("/proc/meminfo") as f:
        fields = dict(line.split(":", 1) for line in f)
    return sum(int(fields[name].split()[0]) for name in ("Dirty", "Writeback"))


@dataclass(frozen=True, slots=True)
class Settle:
    """Before each timed command: `sync`, wait (up to `cap` s) for writeback to drain, then `pause` s."""

    pause: float = 0.2
    cap: float = 30.0

    def __call__(self) -> float:
        start = time.monotonic()
        subprocess.run(["sync"])
        while dirty_kb() > DRAINED_KB and time.monotonic() - start < self.cap:
            time.sleep(0.05)
        time.sleep(self.pause)
        return time.monotonic() - start


def run(target: Target, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run one untimed command of `target`; a failure stops the benchmark."""
    result = subprocess.run(
        target.command(*args), env=target.env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode:
        raise RuntimeError(f"{target.key}: {' '.join(args)} exited {result.returncode}: {result.stderr.strip()}")
    return result


def clocked(settle: Settle, target: Target, *args: str, timeout: float = 600) -> tuple[float, str]:
    """Settle, then run one command of `target`: the seconds it took, and its output."""
    settle()
    start = time.perf_counter()
    result = run(target, *args, timeout=timeout)
    return time.perf_counter() - start, result.stdout


def timed(settle: Settle, target: Target, *args: str, timeout: float = 600) -> float:
    """Settle, then the seconds one command of `target` takes (its output is read and dropped)."""
    return clocked(settle, target, *args, timeout=timeout)[0]


def interleave(rounds: int, targets: Sequence[Target], measure: Callable[[Target], float]) -> dict[str, list[float]]:
    """`rounds` samples of `measure(target)` per target, the order rotated every round."""
    samples: dict[str, list[float]] = {t.key: [] for t in targets}
    for r in range(rounds):
        shift = r % len(targets)
        for target in [*targets[shift:], *targets[:shift]]:
            samples[target.key].append(measure(target))
    return samples


@dataclass(frozen=True, slots=True)
class Unit:
    """How a row's samples read: `scale` times the sample, `suffix`, and whether less is better."""

    suffix: str
    scale: float = 1.0
    digits: int = 0
    lower_is_better: bool = True

    def show(self, value: float, suffix: bool = True) -> str:
        return f"{value * self.scale:.{self.digits}f}{self.suffix if suffix else ''}"


MS = Unit(" ms", 1000)
SECONDS = Unit(" s", digits=2)
MIB = Unit(" MiB", 1 / (1 << 20), digits=1)
SHARE = Unit("%", 100, lower_is_better=False)


@dataclass(slots=True)
class Row:
    """One workload's samples per column, with the issue's target and a note on what was measured."""

    name: str
    unit: Unit
    samples: dict[str, list[float]]
    target: str = ""
    note: str = ""
    worst: bool = False  # also show the worst round's ratio (max over docker's max)

    def median(self, key: str) -> float | None:
        values = self.samples.get(key)
        return statistics.median(values) if values else None

    def cell(self, key: str) -> str:
        """`median (min–max)`, and for a dockyard column its ratio to docker's median."""
        values = self.samples.get(key)
        if not values:
            return ""
        text = self.unit.show(statistics.median(values))
        if len(values) > 1:
            text += f" ({self.unit.show(min(values), suffix=False)}–{self.unit.show(max(values))})"
        reference = self.median("docker")
        if key != "docker" and reference and self.unit.lower_is_better:
            text += f" **{statistics.median(values) / reference:.2f}x**"
            if self.worst:
                text += f", worst round {max(values) / max(self.samples['docker']):.2f}x"
        return text


def table(rows: Sequence[Row]) -> str:
    """The markdown table: one line per row, one column per target, then the target."""
    lines = [
        "| workload | " + " | ".join(HEADINGS[c] for c in COLUMNS) + " | target |",
        "| --- | " + " | ".join("---" for _ in COLUMNS) + " | --- |",
    ]
    for row in rows:
        lines.append(f"| {row.name} | " + " | ".join(row.cell(c) for c in COLUMNS) + f" | {row.target} |")
    return "\n".join(lines)


def rounds_text(rows: Sequence[Row]) -> str:
    """Every sample of every row, in the order taken (per column), for the record."""
    lines = []
    for row in rows:
        lines.append(f"- {row.name}{f' — {row.note}' if row.note else ''}")
        for key in COLUMNS:
            if row.samples.get(key):
                lines.append(f"  - {HEADINGS[key]}: " + ", ".join(row.unit.show(v) for v in row.samples[key]))
    return "\n".join(lines)

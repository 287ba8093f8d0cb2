"""bench/all.py, the one benchmark entry point: its table and rounds (pure), and one tiny run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

from harness import MS, SHARE, Row, Target, interleave, table  # noqa: E402


def test_a_cell_is_median_range_and_ratio_to_dockerd():
    row = Row("run", MS, {"docker": [0.3, 0.2, 0.4], "dockyard": [0.1, 0.05, 0.3]}, "≤ 0.25x")
    assert row.cell("docker") == "300 ms (200–400 ms)"
    assert row.cell("dockyard") == "100 ms (50–300 ms) **0.33x**"
    assert row.cell("docker->dy") == ""


def test_the_worst_round_is_compared_where_the_target_asks():
    row = Row("pull", MS, {"docker": [4.0, 16.0], "dockyard": [2.0, 8.0]}, worst=True)
    assert row.cell("dockyard") == "5000 ms (2000–8000 ms) **0.50x**, worst round 0.50x"


def test_a_share_has_no_ratio_and_one_sample_no_range():
    row = Row("http", SHARE, {"docker": [0.5], "dockyard": [0.7]})
    assert row.cell("dockyard") == "70%"


def test_the_table_has_one_line_per_row_and_the_three_columns():
    rows = [Row("a", MS, {"dockyard": [0.1]}, "t1"), Row("b", MS, {"docker": [0.2]}, "t2")]
    lines = table(rows).splitlines()
    assert lines[0] == "| workload | docker → dockerd | dockyard CLI → dockyard | docker CLI → dockyard | target |"
    assert lines[2] == "| a |  | 100 ms |  | t1 |"
    assert lines[3] == "| b | 200 ms |  |  | t2 |"


def test_rounds_rotate_which_column_goes_first():
    targets = [Target(key, ()) for key in ("docker", "dockyard", "docker->dy")]
    order: list[str] = []
    samples = interleave(3, targets, lambda t: order.append(t.key) or len(order))
    assert order[::3] == ["docker", "dockyard", "docker->dy"]
    assert samples == {"docker": [1, 6, 8], "dockyard": [2, 4, 9], "docker->dy": [3, 5, 7]}


@pytest.mark.root
def test_one_tiny_workload_runs_through_the_harness(tmp_path):
    """The whole path: engines started and stopped, a timed row, the markdown written."""
    out = tmp_path / "latest.md"
    argv = [sys.executable, str(BENCH / "all.py"), "--only", "run-rm", "--no-dockerd", "--rounds", "2"]
    result = subprocess.run([*argv, "--settle", "0", "--out", str(out)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    text = out.read_text()
    row = next(line for line in text.splitlines() if line.startswith("| `run --rm busybox true`"))
    dockyard, docker_to_dockyard = row.split(" | ")[2:4]
    assert re.fullmatch(r"\d+ ms \(\d+–\d+ ms\)", dockyard), row
    assert re.fullmatch(r"\d+ ms \(\d+–\d+ ms\)", docker_to_dockyard), row
    assert "dockyard CLI measured: `" in text

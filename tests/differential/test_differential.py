"""The corpus against a scratch dockyard daemon and the reference dockerd, compared.

Prints `N requests, K identical, M accepted differences, U unexplained` and fails on any
difference that accepted.py does not explain.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.differential.corpus import ROWS
from tests.differential.daemons import both_daemons
from tests.differential.report import judge
from tests.differential.run import run
from tests.e2e.reference import DOCKERD

pytestmark = pytest.mark.root


def test_dockyard_answers_as_dockerd():
    if not os.path.exists(DOCKERD):
        pytest.skip("no reference dockerd installed")
    assert len(ROWS) >= 300
    with both_daemons() as (ours, reference):
        with ThreadPoolExecutor(2) as pool:
            mine, theirs = pool.map(run, (ours.host, reference.host))
        roots = (str(ours.data_root), str(reference.base / "data"), str(reference.base / "exec"))
    report = judge(mine, theirs, roots)
    print("\n" + report.summary())
    for entry in report.unused():
        print(f"accepted but not seen: {entry.rows} | {entry.where}")
    assert not report.unexplained, report.summary() + "\n" + "\n".join(str(d)[:500] for d in report.unexplained)

"""Both daemons' answers, row by row: identical, differing only where accepted, or not."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

from tests.differential.accepted import ACCEPTED, Accepted
from tests.differential.compare import Difference, compare
from tests.differential.corpus import ROWS, Row
from tests.differential.exchange import Answer


@dataclass
class Report:
    rows: int = 0
    identical: int = 0
    accepted: int = 0
    unexplained: list[Difference] = field(default_factory=list)
    used: set[int] = field(default_factory=set)

    def summary(self) -> str:
        bad = len({d.row for d in self.unexplained})
        return (
            f"{self.rows} requests, {self.identical} identical, {self.accepted} accepted differences, {bad} unexplained"
        )

    def unused(self) -> list[Accepted]:
        """Accepted entries no difference matched any more (fixed since, or stale)."""
        return [entry for i, entry in enumerate(ACCEPTED) if i not in self.used]


def reason_for(difference: Difference) -> int | None:
    """Index of the first accepted entry covering `difference`."""
    for i, entry in enumerate(ACCEPTED):
        if fnmatch.fnmatchcase(difference.row, entry.rows) and fnmatch.fnmatchcase(difference.where, entry.where):
            return i
    return None


def judge(ours: dict[str, Answer], theirs: dict[str, Answer], roots: tuple[str, ...], rows: list[Row] = ROWS) -> Report:
    report = Report()
    for r in rows:
        report.rows += 1
        differences = compare(r, ours[r.name], theirs[r.name], roots)
        if not differences:
            report.identical += 1
            continue
        reasons = [reason_for(d) for d in differences]
        report.used.update(i for i in reasons if i is not None)
        missing = [d for d, i in zip(differences, reasons, strict=True) if i is None]
        if missing:
            report.unexplained.extend(missing)
        else:
            report.accepted += 1
    return report

"""Differences from the reference dockerd that are accepted, each with its reason.

An entry covers the differences whose row name and location (`status`, `header:<name>`,
`body.<path>`) match its two globs. The reference is Debian's dockerd 20.10 (API 1.41);
dockyard serves API 1.44 and follows the 1.44 spec and moby's current behaviour where they
differ from 20.10 ("1.44:" reasons). "gap:" reasons are known dockyard shortcomings still
to fix: listed so that the suite catches anything new, not because they are right.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Accepted:
    rows: str
    where: str
    reason: str


ACCEPTED: list[Accepted] = []

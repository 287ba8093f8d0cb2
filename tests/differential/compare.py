"""Differences between two answers to the same row, each with where it lies."""

from __future__ import annotations

from dataclasses import dataclass

from tests.differential.corpus import Row
from tests.differential.exchange import Answer
from tests.differential.normalise import normalise, shape


@dataclass(frozen=True)
class Difference:
    row: str
    where: str  # "status", "header:content-type", "body.HostConfig.Runtime", ...
    ours: object
    theirs: object

    def __str__(self) -> str:
        return f"{self.row} | {self.where}: dockyard {self.ours!r} / dockerd {self.theirs!r}"


MISSING = "<missing>"
# Each daemon's Api-Version header names the newest version it serves: dockyard 1.44,
# dockerd 20.10 1.41. Either is "its own" version, so they compare equal; any other differs.
OWN_API_VERSIONS = {"1.44", "1.41"}


def compare(r: Row, ours: Answer, theirs: Answer, roots: tuple[str, ...]) -> list[Difference]:
    out = []
    if ours.status != theirs.status:
        out.append(Difference(r.name, "status", ours.status, theirs.status))
    for name in sorted(set(ours.headers) | set(theirs.headers)):
        a, b = (normalise(x.headers.get(name, MISSING), roots) for x in (ours, theirs))
        if name == "api-version" and a in OWN_API_VERSIONS and b in OWN_API_VERSIONS:
            continue
        if a != b:
            out.append(Difference(r.name, f"header:{name}", a, b))
    if r.mode == "status":
        return out
    a, b = (_prepare(r, x.body, roots) for x in (ours, theirs))
    out.extend(Difference(r.name, where, x, y) for where, x, y in walk(a, b, "body"))
    return out


def _prepare(r: Row, body: object, roots: tuple[str, ...]) -> object:
    body = normalise(body, roots)
    if r.sort and isinstance(body, list):
        body = sorted(body, key=lambda item: str(item.get(r.sort)) if isinstance(item, dict) else str(item))
    if r.sort and isinstance(body, dict):  # {"Volumes": [...]} style envelopes
        body = {
            k: sorted(v, key=lambda item: str(item.get(r.sort))) if isinstance(v, list) else v for k, v in body.items()
        }
    return shape(body) if r.mode == "keys" else body


def walk(a: object, b: object, where: str):
    """Yield (where, ours, theirs) for every leaf that differs, keys first."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            yield from walk(a.get(key, MISSING), b.get(key, MISSING), f"{where}.{key}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from walk(x, y, f"{where}[{i}]")
    elif a != b:
        yield where, a, b

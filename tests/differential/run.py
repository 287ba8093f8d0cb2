"""Send the corpus to one daemon, in order, and keep every answer by row name."""

from __future__ import annotations

import json
import re
import time

from tests.differential.corpus import ROWS, Row
from tests.differential.exchange import Answer, send

_SLOT = re.compile(r"\{([\w-]+)(?:\[:(\d+)\])?\}")


def run(host: str, rows: list[Row] = ROWS) -> dict[str, Answer]:
    """Answers of `host` to `rows`; `save` slots and `@raw:` bodies are this daemon's own."""
    saved: dict[str, str] = {}
    answers: dict[str, Answer] = {}
    for r in rows:
        if r.pause:
            time.sleep(r.pause)
        path = r.version + fill(r.path, saved)
        body, ctype = payload(r, saved, answers)
        headers = dict(r.headers)
        if ctype:
            headers["Content-Type"] = ctype
        began = time.monotonic()
        answer = send(host, r.method, path, body, headers, stdin=r.stdin, idle=r.idle, timeout=r.timeout)
        answer.seconds = time.monotonic() - began
        answers[r.name] = answer
        if r.save and isinstance(answer.body, dict) and "Id" in answer.body:
            saved[r.save] = answer.body["Id"]
    return answers


def fill(text: str, saved: dict[str, str]) -> str:
    def one(found: re.Match) -> str:
        if found.group(1) == "now":
            return str(int(time.time()))
        value = saved.get(found.group(1), found.group(1))
        return value[: int(found.group(2))] if found.group(2) else value

    return _SLOT.sub(one, text)


def payload(r: Row, saved: dict[str, str], answers: dict[str, Answer]) -> tuple[bytes | None, str | None]:
    if r.body is None:
        return None, r.ctype
    if isinstance(r.body, str) and r.body.startswith("@raw:"):
        return answers[r.body.removeprefix("@raw:")].raw, r.ctype
    if isinstance(r.body, bytes):
        return r.body, r.ctype
    return fill(json.dumps(r.body), saved).encode(), r.ctype or "application/json"

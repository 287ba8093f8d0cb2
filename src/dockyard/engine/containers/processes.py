"""`docker top`: the host's `ps` output, cut down to one container's processes.

As dockerd does: run `ps` with the caller's arguments (default `-ef`, whose columns are
UID PID PPID C STIME TTY TIME CMD), find the PID column in the header, and keep the rows
whose PID belongs to the container. Fields past the last title are joined into it (the
command line has spaces).
"""

from __future__ import annotations

import shlex
import subprocess

from dockyard.errors import InvalidArgument, RuntimeFailure

DEFAULT_PS_ARGS = "-ef"


def run_ps(ps_args: str | None) -> str:
    """The host's `ps` output. Raises RuntimeFailure with ps's own complaint."""
    argv = ["ps", *shlex.split(ps_args or DEFAULT_PS_ARGS)]
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeFailure(f"ps: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def parse_ps(output: str, pids: list[int]) -> dict:
    """{"Titles": [...], "Processes": [[...], ...]} for the rows whose PID is in `pids`."""
    lines = output.splitlines()
    if not lines:
        raise InvalidArgument("ps printed nothing")
    titles = lines[0].split()
    if "PID" not in titles:
        raise InvalidArgument("Couldn't find PID field in ps output")
    column, wanted = titles.index("PID"), set(pids)
    rows = []
    for line in lines[1:]:
        fields = line.split()
        if len(fields) <= column or not fields[column].isdigit() or int(fields[column]) not in wanted:
            continue
        last = len(titles) - 1
        rows.append(fields[:last] + [" ".join(fields[last:])])
    return {"Titles": titles, "Processes": rows}

"""`docker events` on a real daemon: one container's verbs, in order, with --since/--until
and filters, through the docker CLI."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.root


def test_a_containers_verbs_appear_in_events(daemon):
    since = str(time.time())
    cid = daemon.docker("run", "-d", "--name", "evented", "busybox", "sleep", "600").stdout.strip()
    daemon.docker("exec", "evented", "sh", "-c", "exit 3", check=False)
    daemon.docker("pause", "evented")
    daemon.docker("unpause", "evented")
    daemon.docker("update", "--pids-limit", "20", "evented")
    daemon.docker("rename", "evented", "renamed")
    daemon.docker("restart", "-t", "0", "renamed")
    daemon.docker("rm", "-f", "renamed")
    until = str(time.time() + 0.5)
    time.sleep(0.6)
    lines = daemon.docker(
        "events",
        "--since",
        since,
        "--until",
        until,
        "--filter",
        f"container={cid}",
        "--format",
        '{{.Action}} {{index .Actor.Attributes "exitCode"}}',
    ).stdout.splitlines()
    actions = [line.strip() for line in lines]
    assert actions == [
        "create",
        "start",  # run -d attaches nothing
        "exec_create: sh -c exit 3",
        "exec_start: sh -c exit 3",
        "exec_die 3",
        "pause",
        "unpause",
        "update",
        "rename",
        "kill",
        "kill",
        "die 137",
        "start",
        "restart",
        "kill",
        "die 137",
        "destroy",
    ]
    only = daemon.docker(
        "events",
        "--since",
        since,
        "--until",
        until,
        "--filter",
        f"container={cid}",
        "--filter",
        "event=die",
        "--format",
        "{{.Action}}",
    ).stdout.split()
    assert only == ["die", "die"]

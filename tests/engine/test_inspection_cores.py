"""Pure cores behind top, diff, stats and commit, without a daemon."""

from __future__ import annotations

import os

import pytest

from dockyard.engine.containers import changes, processes, stats
from dockyard.engine.containers.commit import new_config
from dockyard.engine.containers.model import Container
from dockyard.errors import InvalidArgument
from dockyard.runtime.cgroups.stats import Usage

PS = """UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 10:00 ?        00:00:01 /sbin/init
root        4242    4241  0 10:01 ?        00:00:00 sh -c sleep 600 & wait
root        4243    4242  0 10:01 ?        00:00:00 sleep 600
"""


def test_parse_ps_keeps_the_containers_rows_and_joins_the_command():
    table = processes.parse_ps(PS, [4242, 4243])
    assert table["Titles"] == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert table["Processes"] == [
        ["root", "4242", "4241", "0", "10:01", "?", "00:00:00", "sh -c sleep 600 & wait"],
        ["root", "4243", "4242", "0", "10:01", "?", "00:00:00", "sleep 600"],
    ]


def test_parse_ps_without_a_pid_column():
    with pytest.raises(InvalidArgument, match="Couldn't find PID field in ps output"):
        processes.parse_ps("USER COMMAND\nroot sh\n", [1])


def test_changes_added_modified_unchanged_dir(tmp_path):
    lower, upper = tmp_path / "lower", tmp_path / "upper"
    (lower / "etc").mkdir(parents=True)
    (lower / "etc" / "passwd").write_text("root")
    (lower / "same").mkdir()
    (upper / "etc").mkdir(parents=True)
    (upper / "etc" / "passwd").write_text("root\napp")
    (upper / "etc" / "hosts").write_text("")  # a runtime mount point, not a change
    (upper / "new").write_text("x")
    (upper / "same").mkdir()
    stat = os.stat(lower / "same")
    os.utime(upper / "same", (stat.st_atime, stat.st_mtime))
    os.utime(upper / "etc", (0, 0))
    found = [(c.path, c.kind) for c in changes.changes(upper, [lower])]
    assert found == [("/etc", changes.MODIFIED), ("/etc/passwd", changes.MODIFIED), ("/new", changes.ADDED)]


@pytest.mark.root
def test_changes_whiteout_is_a_deletion(tmp_path):
    lower, upper = tmp_path / "lower", tmp_path / "upper"
    lower.mkdir(), upper.mkdir()
    (lower / "gone").write_text("x")
    os.mknod(upper / "gone", 0o600 | 0o020000, os.makedev(0, 0))
    assert [c.to_json() for c in changes.changes(upper, [lower])] == [{"Path": "/gone", "Kind": changes.DELETED}]


def test_changes_never_follow_a_symlink_out_of_the_layers(tmp_path):
    """A layer's `link -> <host dir>` under an upper dir `link/` (the container replaced it):
    `link/f` is new, whatever the host holds at the link's target."""
    host, lower, upper = tmp_path / "host", tmp_path / "lower", tmp_path / "upper"
    for directory in (host, lower, upper / "link", upper / "out"):
        directory.mkdir(parents=True)
    (host / "f").write_text("host")
    (host / "secret").write_text("host")
    (lower / "link").symlink_to(host)
    (upper / "link" / "f").write_text("mine")
    (upper / "out" / "up").symlink_to(host)  # a symlink in the upper dir is a change, not a way out
    found = [(c.path, c.kind) for c in changes.changes(upper, [lower])]
    assert found == [
        ("/link", changes.MODIFIED),
        ("/link/f", changes.ADDED),
        ("/out", changes.ADDED),
        ("/out/up", changes.ADDED),
    ]


@pytest.mark.root
def test_changes_in_an_opaque_directory_are_new(tmp_path):
    lower, upper = tmp_path / "lower", tmp_path / "upper"
    (lower / "d").mkdir(parents=True)
    (lower / "d" / "old").write_text("x")
    (upper / "d").mkdir(parents=True)
    (upper / "d" / "old").write_text("y")
    os.setxattr(upper / "d", "trusted.overlay.opaque", b"y")
    os.utime(upper / "d", (0, 0))
    found = [(c.path, c.kind) for c in changes.changes(upper, [lower])]
    assert found == [("/d", changes.MODIFIED), ("/d/old", changes.ADDED)]


def test_stats_document_shape_and_precpu():
    usage = Usage(memory_bytes=1000, memory_limit=None, cpu_ns=5_000, pids=2)
    first = stats.document("web", "abc", "2026-01-01T00:00:00Z", usage, 10**9, None, {"eth0": {"rx_bytes": 1}})
    second = stats.document("web", "abc", "2026-01-01T00:00:01Z", usage, 2 * 10**9, first, None)
    assert first["name"] == "/web" and first["pids_stats"] == {"current": 2}
    assert first["memory_stats"]["usage"] == 1000 and first["memory_stats"]["limit"] > 0
    assert first["networks"] == {"eth0": {"rx_bytes": 1}} and "networks" not in second
    assert second["precpu_stats"] == first["cpu_stats"] and second["preread"] == first["read"]
    stopped = stats.document("web", "abc", stats.ZERO_READ, None, None, None, None)
    assert stopped["memory_stats"] == {} and stopped["pids_stats"] == {}


def test_commit_config_layers_changes_and_history():
    container = Container(
        id="c" * 64,
        name="x",
        image="busybox",
        image_id="sha256:" + "a" * 64,
        created="",
        config={"Image": "busybox", "Hostname": "abc", "Cmd": ["sh"], "Env": ["A=1"]},
        host_config={},
    )
    image = {"os": "linux", "rootfs": {"type": "layers", "diff_ids": ["sha256:1"]}, "history": [{"comment": "base"}]}
    doc = new_config(image, container, "sha256:2", "msg", "me", ['CMD ["true"]'], {"Env": ["B=2"]})
    assert doc["rootfs"]["diff_ids"] == ["sha256:1", "sha256:2"]
    # as moby: the container's whole config (Image, Hostname too), labels as a map, then the overrides
    assert doc["config"] == {"Image": "busybox", "Hostname": "abc", "Cmd": ["true"], "Env": ["B=2"], "Labels": {}}
    assert doc["container_config"] == {**container.config, "Labels": {}}
    assert doc["history"][-1]["comment"] == "msg" and doc["history"][-1]["author"] == "me"
    assert doc["author"] == "me" and doc["container"] == container.id and doc["os"] == "linux"
    unchanged = new_config(image, container, None, None, None, [], None)  # nothing changed: no layer
    assert unchanged["rootfs"]["diff_ids"] == ["sha256:1"] and unchanged["history"][-1]["empty_layer"] is True

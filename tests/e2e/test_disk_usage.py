"""`system df` and `system prune` end to end: figures against `du` on the data root, the
dockyard CLI's tables against the docker CLI's (and the reference dockerd's shape), and a
data root that `system prune -a --volumes` leaves with nothing orphaned."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import time
import uuid

import pytest

pytestmark = pytest.mark.root


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def du_b(*paths) -> int:
    out = subprocess.run(["du", "-sbc", *map(str, paths)], capture_output=True, text=True, check=True).stdout
    return int(out.splitlines()[-1].split()[0])


def files_size(path) -> int:
    out = subprocess.run(["find", str(path), "!", "-type", "d", "-printf", "%s\\n"], capture_output=True, text=True)
    return sum(int(line) for line in out.stdout.split())


def steady(text: str) -> str:
    """Table output without the parts that change from one second to the next."""
    text = re.sub(r"(About a minute|Less than a second|\d+ (second|minute)s?) ago", "T ago", text)
    text = re.sub(r"Up (About a minute|Less than a second|\d+ (second|minute)s?)", "Up T", text)
    return re.sub(r" {2,}", "  ", text)


@pytest.fixture(scope="module")
def workload(daemon):
    """A running container with a named and an anonymous volume, a stopped one, a spare volume."""
    running, stopped, spare, named = unique("df-run"), unique("df-stopped"), unique("spare"), unique("named")
    script = "head -c 300000 /dev/zero > /big; echo hi > /data/x; echo y > /anon/y; touch /ready; sleep 600"
    daemon.cli("run", "-d", "--name", running, "-v", f"{named}:/data", "-v", "/anon", "busybox", "sh", "-c", script)
    daemon.cli("create", "--name", stopped, "busybox", "true")
    daemon.cli("volume", "create", spare)
    deadline = time.monotonic() + 10
    while daemon.cli("exec", running, "test", "-e", "/ready", check=False).returncode:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    yield running, stopped, spare, named
    daemon.cli("rm", "-fv", running, stopped, check=False)
    daemon.cli("volume", "rm", "-f", spare, named, check=False)


def test_df_figures_agree_with_du(daemon, workload):
    df = json.loads(daemon.cli("system", "df", "--format", "{{json .}}").stdout.splitlines()[0])  # a client round trip
    assert df["Type"] == "Images"
    doc = daemon.sdk().df()
    root = daemon.data_root
    assert doc["LayersSize"] == du_b(root / "layers", root / "blobs")
    for volume in doc["Volumes"]:
        assert volume["UsageData"]["Size"] == du_b(root / "volumes" / volume["Name"] / "_data")
    assert sorted(v["UsageData"]["RefCount"] for v in doc["Volumes"]) == [0, 1, 1]
    for container in doc["Containers"]:
        assert container.get("SizeRw", 0) == files_size(root / "containers" / container["Id"] / "upper")  # omitempty
    running = next(c for c in doc["Containers"] if c["Names"] == [f"/{workload[0]}"])
    assert running["SizeRw"] >= 300000
    (image,) = doc["Images"]
    assert image["Containers"] == 2 and image["SharedSize"] == 0
    assert doc["LayersSize"] - image["Size"] < 64 * 1024  # only the store's own directories are no image's


def test_df_tables_are_the_docker_clis(daemon, workload):
    for args in (("system", "df"), ("system", "df", "-v")):
        ours, theirs = daemon.cli(*args).stdout, daemon.docker(*args).stdout
        assert steady(ours) == steady(theirs)
    verbose = daemon.cli("system", "df", "-v").stdout
    assert workload[2] in verbose and "Local Volumes space usage:" in verbose
    refused = daemon.cli("system", "df", "-v", "--format", "{{json .}}", check=False)
    assert refused.returncode == 1 and "--format with --verbose" in refused.stderr


def test_df_has_the_reference_dockerds_shape(daemon, workload, reference):
    ours, theirs = (
        daemon.docker("system", "df").stdout.splitlines(),
        reference.docker("system", "df").stdout.splitlines(),
    )
    assert [line.split("  ")[0] for line in ours] == [line.split("  ")[0] for line in theirs]
    ours_v, theirs_v = daemon.docker("system", "df", "-v").stdout, reference.docker("system", "df", "-v").stdout
    titles = lambda text: [line for line in text.splitlines() if line.endswith(":") or line.startswith("Build cache")]
    assert [t.split(":")[0] for t in titles(ours_v)] == [t.split(":")[0] for t in titles(theirs_v)]


def test_system_prune_output_is_the_docker_clis(daemon, workload):
    outputs = {}
    for client in ("dockyard", "docker"):
        doomed = unique("doomed")
        container = daemon.cli("create", "--name", doomed, "--label", "volrest=1", "busybox", "true").stdout.strip()
        out = daemon.client(client, "system", "prune", "-f", "--filter", "label=volrest=1").stdout
        outputs[client] = out.replace(container, "ID")
        assert daemon.cli("inspect", doomed, check=False).returncode != 0
    assert outputs["dockyard"] == outputs["docker"]
    assert outputs["docker"].startswith("Deleted Containers:\nID\n\nTotal reclaimed space: ")


def test_system_prune_all_volumes_leaves_nothing_orphaned(daemon, workload):
    running, stopped, spare, named = workload
    kept = unique("kept")
    daemon.cli("rm", "-f", running)  # without -v: its anonymous volume stays behind, as docker's
    daemon.cli("volume", "create", kept)
    daemon.cli("commit", stopped, unique("committed"))
    daemon.cli("tag", "busybox", "another:tag")
    out = daemon.cli("system", "prune", "-a", "--volumes", "-f").stdout
    assert out.startswith("Deleted Containers:\n") and out.count("Total reclaimed space:") == 1
    assert "Deleted Volumes:\n" in out and "untagged: another:tag\n" in out
    root = daemon.data_root
    listing = lambda path: sorted(p.name for p in path.iterdir())
    assert listing(root / "containers") == [] and listing(root / "layers") == ["l"] and listing(root / "layers/l") == []
    assert listing(root / "volumes") == sorted([kept, spare, named])  # named ones stay, as docker's (API >= 1.42)
    assert sorted(daemon.cli("volume", "ls", "-q").stdout.split()) == sorted([kept, spare, named])
    assert listing(root / "tmp") == [] and listing(root / "ingest") == []
    assert daemon.cli("images", "-q").stdout == "" and daemon.cli("ps", "-aq").stdout == ""
    if importlib.util.find_spec("dockyard.images.gc") is None and listing(root / "blobs/sha256"):
        pytest.xfail("image blobs are collected by content GC (images/gc.py, issue 15), not yet on this branch")
    assert listing(root / "blobs/sha256") == []

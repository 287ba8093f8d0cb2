"""`export`, `import` and `commit` end to end, and a container that tries to make export,
commit or diff read the host by swapping its directories for symlinks during the walk."""

from __future__ import annotations

import io
import json
import os
import re
import tarfile
import time
import uuid

import docker
import pytest

pytestmark = pytest.mark.root

SETUP = "mkdir -p /data/sub && echo kept > /data/f && chown 7:8 /data/f && chmod 604 /data/f && ln -s f /data/link"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _wait_for(daemon, name: str, path: str) -> None:
    deadline = time.monotonic() + 10
    while daemon.cli("exec", name, "test", "-e", path, check=False).returncode:
        assert time.monotonic() < deadline, f"{path} never appeared in {name}"
        time.sleep(0.1)


def test_export_then_import(daemon, client, tmp_path):
    name, repo = unique("exported"), unique("imported")
    daemon.cli("run", "-d", "--name", name, "busybox", "sh", "-c", f"{SETUP} && touch /ready && sleep 600")
    try:
        _wait_for(daemon, name, "/ready")
        daemon.client(client, "export", "-o", str(tmp_path / "fs.tar"), name)
        with tarfile.open(tmp_path / "fs.tar") as tar:
            f, link = tar.getmember("data/f"), tar.getmember("data/link")
            assert (f.uid, f.gid, f.mode, link.linkname) == (7, 8, 0o604, "f")
        daemon.client(client, "import", str(tmp_path / "fs.tar"), repo)
        script = "stat -c '%u:%g %a' /data/f && cat /data/link && test -d /data/sub && ls /ready"
        out = daemon.client(client, "run", "--rm", repo, "sh", "-c", script).stdout
        assert out == "7:8 604\nkept\n/ready\n"
    finally:
        daemon.cli("rm", "-f", name, check=False)
        daemon.cli("rmi", repo, check=False)


def test_commit_of_a_running_container_without_pausing(daemon, client):
    name, repo = unique("live"), unique("live-image")
    daemon.cli("run", "-d", "--name", name, "busybox", "sh", "-c", "echo v1 > /state; touch /ready; sleep 600")
    try:
        _wait_for(daemon, name, "/ready")
        flags = ["--pause=false", "-c", "ENV MODE=committed", "-c", 'CMD ["sh", "-c", "echo $MODE; cat /state"]']
        daemon.client(client, "commit", *flags, "-a", "me", "-m", "live", name, repo)
        assert daemon.inspect(name)["State"]["Status"] == "running"
        assert daemon.client(client, "run", "--rm", repo).stdout == "committed\nv1\n"
        doc = json.loads(daemon.cli("image", "inspect", repo).stdout)[0]
        assert doc["Author"] == "me" and doc["Comment"] == "live" and "MODE=committed" in doc["Config"]["Env"]
    finally:
        daemon.cli("rm", "-f", name, check=False)
        daemon.cli("rmi", repo, check=False)


BAD_NAMES = [("Upper", None), ("ok", "bad:tag"), ("ok@sha256:" + "a" * 64, None)]


def _refusals(api, container: str, busybox_tar) -> tuple[list, set]:
    """Each bad name's (status, message) from commit, then import; the images added meanwhile."""
    before = {image["Id"] for image in api.images(all=True)}
    answers = []
    for repo, tag in BAD_NAMES:
        for call, first in ((api.commit, container), (api.import_image_from_file, str(busybox_tar))):
            with pytest.raises(docker.errors.APIError) as refused:
                call(first, repository=repo, tag=tag)
            answers.append((refused.value.status_code, refused.value.explanation))
    return answers, {image["Id"] for image in api.images(all=True)} - before


def test_a_bad_name_is_refused_before_commit_or_import_stores_anything(daemon, reference, busybox_tar):
    name = unique("named")
    reference.docker("import", str(busybox_tar), "busybox")
    for run in (daemon.cli, reference.docker):
        run("run", "-d", "--network", "none", "--name", name, "busybox", "sleep", "600")
    try:
        ours, left = _refusals(daemon.sdk().api, name, busybox_tar)
        theirs, _ = _refusals(docker.APIClient(base_url=reference.host), name, busybox_tar)
        # dockerd's words; its 20.10 commits first and then fails the name, leaving a nameless
        # image and (for a malformed name) a 500, which moby's later router fixed: a 400, nothing left
        # (our parser names the repository in its words, as distribution's later releases do)
        assert [re.sub(r" \(.*\)", "", message) for _, message in ours] == [message for _, message in theirs]
        assert {status for status, _ in ours} == {400} and left == set()
    finally:
        daemon.cli("rm", "-f", name, check=False)
        reference.docker("rm", "-f", name, check=False)


def _layer_names(saved: bytes) -> list[str]:
    """Every entry name in every layer tar of a `save` archive."""
    names = []
    with tarfile.open(fileobj=io.BytesIO(saved)) as outer:
        for member in outer.getmembers():
            if not member.isfile():
                continue
            data = outer.extractfile(member).read()
            try:
                with tarfile.open(fileobj=io.BytesIO(data)) as layer:
                    names += layer.getnames()
            except tarfile.TarError:
                continue  # a manifest or a config
    return names


def test_a_hostile_container_cannot_make_export_commit_or_diff_read_the_host(daemon, client, tmp_path):
    """Links to / and /etc, and a directory swapped for a link to / in a tight loop, while
    export, commit --pause=false and diff walk the container's files."""
    name, marker = unique("hostile"), f"dockyard-escape-{uuid.uuid4().hex}"
    os.mkdir(f"/{marker}")  # a host directory whose name must never come out of the container
    swap = "while true; do mkdir -p /race/dir/sub; rm -rf /race/dir; ln -s / /race/dir; rm /race/dir; done"
    images = []
    try:
        daemon.cli(
            "run", "-d", "--name", name, "busybox", "sh", "-c",
            f"mkdir -p /race; ln -s / /race/root; ln -s /etc /race/etc; touch /ready; {swap}",
        )  # fmt: skip
        _wait_for(daemon, name, "/ready")
        assert os.path.exists("/etc/os-release")  # busybox has none: one in the output came from the host
        for round in range(15):
            exported = daemon.client(client, "export", name, input=b"").stdout
            with tarfile.open(fileobj=io.BytesIO(exported)) as tar:
                names = tar.getnames()
            assert "race/root" in names and not [n for n in names if marker in n or "os-release" in n]
            diff = daemon.client(client, "diff", name).stdout
            assert "/race/root" in diff and marker not in diff and "os-release" not in diff
            if round % 5 == 0:
                images.append(unique("hostile-image"))
                daemon.client(client, "commit", "--pause=false", name, images[-1])
                names = _layer_names(daemon.cli("save", images[-1], input=b"").stdout)
                assert "race/root" in names and not [n for n in names if marker in n or "os-release" in n]
        sdk = daemon.sdk()
        for _ in range(300):  # the API alone, for many more walks
            paths = [change["Path"] for change in sdk.api.diff(name)]
            assert "/race/root" in paths and not [p for p in paths if marker in p or "os-release" in p]
        sdk.close()
    finally:
        daemon.cli("rm", "-f", name, check=False)
        for image in images:
            daemon.cli("rmi", image, check=False)
        os.rmdir(f"/{marker}")

"""Image verbs end to end: import, load/save (also with a reference dockerd), ls, inspect,
tag, rmi, history, prune; each through the dockyard CLI and the real docker CLI."""

from __future__ import annotations

import io
import json
import tarfile
import uuid

import pytest

pytestmark = pytest.mark.root


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_import_from_a_file_and_from_stdin(daemon, client, busybox_tar):
    from_file, from_stdin = unique("fromfile"), unique("fromstdin")
    image_id = daemon.client(client, "import", str(busybox_tar), from_file).stdout.strip()
    assert image_id.startswith("sha256:")
    daemon.client(client, "import", "-", from_stdin, input=busybox_tar.read_bytes())
    for name in (from_file, from_stdin):
        assert daemon.client(client, "run", "--rm", name, "echo", "ran").stdout == "ran\n"
        daemon.cli("rmi", name)


def test_import_with_changes_sets_entrypoint_and_cmd(daemon, client, busybox_tar):
    exec_form, shell_form = unique("execform"), unique("shellform")
    daemon.client(
        client,
        "import",
        "-c",
        'ENTRYPOINT ["/bin/echo", "ep"]',
        "-c",
        'CMD ["default"]',
        "-c",
        "ENV GREETING hi there",
        "-c",
        "WORKDIR /tmp",
        str(busybox_tar),
        exec_form,
    )
    daemon.client(
        client,
        "import",
        "--change",
        "ENTRYPOINT echo shell $GREETING",
        "--change",
        "ENV GREETING=hi",
        str(busybox_tar),
        shell_form,
    )
    try:
        assert daemon.client(client, "run", "--rm", exec_form).stdout == "ep default\n"
        assert daemon.client(client, "run", "--rm", exec_form, "given").stdout == "ep given\n"
        override = daemon.client(client, "run", "--rm", "--entrypoint", "sh", exec_form, "-c", "echo $GREETING; pwd")
        assert override.stdout == "hi there\n/tmp\n"
        # the shell form ignores CMD and arguments, as in Docker
        assert daemon.client(client, "run", "--rm", shell_form, "ignored").stdout == "shell hi\n"
        config = daemon.client(client, "image", "inspect", "-f", "{{json .Config.Entrypoint}}", shell_form).stdout
        assert json.loads(config) == ["/bin/sh", "-c", "echo shell $GREETING"]
    finally:
        daemon.cli("rmi", exec_form, shell_form)


def test_images_inspect_tag_history(daemon, client):
    repo = unique("tagged")
    daemon.client(client, "tag", "busybox", f"{repo}:v1")
    daemon.client(client, "image", "tag", "busybox:latest", f"localhost:5000/{repo}:v2")
    try:
        table = daemon.client(client, "images").stdout.splitlines()
        assert table[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
        rows = {tuple(line.split()[:2]) for line in table[1:]}
        assert {(repo, "v1"), (f"localhost:5000/{repo}", "v2"), ("busybox", "latest")} <= rows
        listed = daemon.client(client, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}", repo).stdout.split()
        assert listed == [f"{repo}:v1"]
        busybox_id = daemon.client(client, "image", "inspect", "-f", "{{.Id}}", "busybox").stdout.strip()
        doc = json.loads(daemon.client(client, "image", "inspect", f"{repo}:v1").stdout)[0]
        assert doc["Id"] == busybox_id and f"{repo}:v1" in doc["RepoTags"]
        assert doc["RootFS"]["Type"] == "layers" and len(doc["RootFS"]["Layers"]) == 1
        assert doc["Os"] == "linux" and doc["Architecture"]
        history = daemon.client(client, "history", f"{repo}:v1").stdout.splitlines()
        assert history[0].split()[:3] == ["IMAGE", "CREATED", "CREATED"] and len(history) == 2
        assert "Imported from -" in history[1]
        quiet = daemon.client(client, "images", "-q", "--no-trunc", repo).stdout.split()
        assert quiet == [busybox_id]
    finally:
        daemon.cli("rmi", f"{repo}:v1", f"localhost:5000/{repo}:v2")


def test_rmi_refuses_an_image_used_by_a_container(daemon, client, busybox_tar):
    name = unique("used")
    daemon.cli("import", str(busybox_tar), name)
    container = unique("user")
    daemon.client(client, "create", "--name", container, name, "true")
    refused = daemon.client(client, "rmi", name, check=False)
    assert refused.returncode == 1
    assert "container" in refused.stderr and "is using its referenced image" in refused.stderr
    assert daemon.client(client, "rmi", "-f", name).returncode == 0
    daemon.cli("rm", container)
    assert daemon.cli("image", "inspect", name, check=False).returncode == 1


def test_image_prune_removes_dangling_only(daemon, client, busybox_tar):
    dangling_id = daemon.cli("import", "-c", f"LABEL stamp={uuid.uuid4().hex}", str(busybox_tar)).stdout.strip()
    kept = unique("kept")
    daemon.cli("import", "-c", f"LABEL stamp={uuid.uuid4().hex}", str(busybox_tar), kept)
    out = daemon.client(client, "image", "prune", "-f").stdout
    assert dangling_id in out
    assert daemon.cli("image", "inspect", dangling_id, check=False).returncode == 1
    assert daemon.cli("image", "inspect", kept).returncode == 0
    daemon.client(client, "image", "prune", "-a", "-f", "--filter", "label=stamp")
    assert daemon.cli("image", "inspect", kept, check=False).returncode == 1
    assert daemon.cli("image", "inspect", "busybox").returncode == 0  # used by no container but not labelled


def test_save_load_round_trip_with_several_tags(daemon, client, tmp_path):
    first, second = unique("saved") + ":one", unique("saved") + ":two"
    daemon.cli("tag", "busybox", first)
    daemon.cli("tag", "busybox", second)
    archive = tmp_path / "images.tar"
    daemon.client(client, "save", "-o", str(archive), first, second)
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        assert sorted(manifest[0]["RepoTags"]) == sorted([first, second])
        assert "index.json" in tar.getnames() and "oci-layout" in tar.getnames()
    daemon.cli("rmi", first, second)
    loaded = daemon.client(client, "load", "-i", str(archive)).stdout
    assert f"Loaded image: {first}" in loaded and f"Loaded image: {second}" in loaded
    assert daemon.client(client, "run", "--rm", second, "echo", "back").stdout == "back\n"
    # and through stdin/stdout
    piped = daemon.client(client, "save", first, input=b"").stdout
    daemon.cli("rmi", first, second)
    assert f"Loaded image: {first}".encode() in daemon.client(client, "load", input=piped).stdout
    daemon.cli("rmi", first)


def test_real_docker_load_reads_our_save(daemon, reference, tmp_path):
    name = unique("toref") + ":v1"
    daemon.cli("tag", "busybox", name)
    archive = tmp_path / "ours.tar"
    daemon.cli("save", "-o", str(archive), name)
    assert f"Loaded image: {name}" in reference.docker("load", "-i", str(archive)).stdout
    assert reference.docker("run", "--rm", "--network", "none", name, "echo", "in dockerd").stdout == "in dockerd\n"
    daemon.cli("rmi", name)


def test_we_load_what_real_docker_save_wrote(daemon, client, reference, busybox_tar, tmp_path):
    one, two = unique("fromref") + ":a", unique("fromref") + ":b"
    reference.docker("import", "-c", 'CMD ["echo", "made by dockerd"]', str(busybox_tar), one)
    reference.docker("tag", one, two)
    archive = tmp_path / "theirs.tar"
    reference.docker("save", "-o", str(archive), one, two)
    loaded = daemon.client(client, "load", "-i", str(archive)).stdout
    assert f"Loaded image: {one}" in loaded and f"Loaded image: {two}" in loaded
    assert daemon.client(client, "run", "--rm", two).stdout == "made by dockerd\n"
    ids = {daemon.cli("image", "inspect", "-f", "{{.Id}}", n).stdout for n in (one, two)}
    assert ids == {reference.docker("image", "inspect", "-f", "{{.Id}}", one).stdout}
    daemon.cli("rmi", one, two)


def test_sdk_image_flows(daemon, busybox_tar):
    sdk = daemon.sdk()
    name = unique("sdk")
    image = sdk.images.get("busybox")
    assert image.tag(name, "x")
    assert f"{name}:x" in sdk.images.get(f"{name}:x").tags
    assert any(f"{name}:x" in i.tags for i in sdk.images.list())
    history = sdk.images.get(f"{name}:x").history()
    assert history[0]["Id"] == image.id
    sdk.images.remove(f"{name}:x")
    saved = b"".join(image.save(named=True))
    with tarfile.open(fileobj=io.BytesIO(saved)) as tar:
        assert "manifest.json" in tar.getnames()
    sdk.close()


def test_prune_all_untags_an_image_a_container_uses_but_its_last_name(daemon, reference, busybox_tar):
    """dockerd's prune tries every top image's names, the used one's too: each but the last
    is untagged, the last (and the image) stay for the container."""

    def story(engine) -> tuple:
        label = uuid.uuid4().hex[:8]
        one, two = f"used-{label}-a:1", f"used-{label}-b:1"
        engine.docker("import", "--change", f"LABEL story={label}", str(busybox_tar), one)
        engine.docker("tag", one, two)
        engine.docker("create", "--name", f"user-{label}", one, "true")
        try:
            pruned = engine.docker("image", "prune", "-af", "--filter", f"label=story={label}").stdout
            left = engine.docker("images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", f"label=story={label}")
            return pruned.replace(label, "*").splitlines()[:2], left.stdout.replace(label, "*").split()
        finally:
            engine.docker("rm", "-f", f"user-{label}", check=False)
            engine.docker("rmi", "-f", one, two, check=False)

    ours = story(daemon)
    assert ours == story(reference)
    assert ours == (["Deleted Images:", "untagged: used-*-a:1"], ["used-*-b:1"])

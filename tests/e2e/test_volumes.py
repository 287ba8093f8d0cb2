"""Volumes and mounts end to end: the dockyard CLI, the real docker CLI and the docker SDK."""

from __future__ import annotations

import json
import os
import subprocess
import uuid

import docker
import pytest

pytestmark = pytest.mark.root


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def volume_names(daemon) -> set[str]:
    return set(daemon.cli("volume", "ls", "-q").stdout.split())


@pytest.fixture(scope="module")
def owned_image(daemon):
    """An image with /data (1000:1000, 0750, a setgid file) declared as a VOLUME."""
    builder = unique("builder")
    daemon.cli(
        "run",
        "--name",
        builder,
        "busybox",
        "sh",
        "-c",
        "mkdir /data && echo seed > /data/seed && chown -R 1000:1000 /data && chmod 750 /data && chmod 2640 /data/seed",
    )
    tag = unique("owned").lower()
    daemon.cli("commit", "--change", "VOLUME /data", builder, tag)
    daemon.cli("rm", builder)
    return tag


def test_named_volume_outlives_its_container(daemon, client):
    name = unique("keep")
    daemon.client(client, "run", "--rm", "-v", f"{name}:/v", "busybox", "sh", "-c", "echo kept > /v/file")
    assert name in volume_names(daemon)  # created on first use, kept by --rm (it has a name)
    assert daemon.client(client, "run", "--rm", "-v", f"{name}:/w", "busybox", "cat", "/w/file").stdout == "kept\n"
    refused = daemon.client(client, "run", "--rm", "-v", f"{name}:/w:ro", "busybox", "touch", "/w/x", check=False)
    assert refused.returncode != 0 and "Read-only file system" in refused.stderr
    daemon.client(client, "volume", "rm", name)
    assert name not in volume_names(daemon)


def test_copy_up_keeps_owners_and_modes_and_nocopy_turns_it_off(daemon, owned_image):
    probe = "stat -c '%u:%g %a' /data /data/seed; cat /data/seed"
    out = daemon.cli("run", "--rm", owned_image, "sh", "-c", probe).stdout
    assert out == "1000:1000 750\n1000:1000 2640\nseed\n"
    named = unique("copied")
    assert daemon.cli("run", "--rm", "-v", f"{named}:/data", owned_image, "sh", "-c", probe).stdout == out
    empty = unique("nocopy")
    listing = daemon.cli("run", "--rm", "-v", f"{empty}:/data:nocopy", owned_image, "ls", "-A", "/data").stdout
    assert listing == ""
    daemon.cli("volume", "rm", named, empty)


def test_anonymous_volumes_go_exactly_when_docker_removes_them(daemon, client, owned_image):
    before = volume_names(daemon)
    kept = daemon.client(client, "create", "-v", "/extra", owned_image, "true").stdout.strip()
    mounts = daemon.inspect(kept)["Mounts"]
    anonymous = {m["Name"] for m in mounts}
    assert len(anonymous) == 2 and all(m["Type"] == "volume" and m["Mode"] == "" for m in mounts)
    assert anonymous <= volume_names(daemon)
    daemon.client(client, "rm", kept)
    assert anonymous <= volume_names(daemon)  # plain rm keeps them
    named = unique("named")
    removed = daemon.client(client, "create", "-v", "/extra", "-v", f"{named}:/n", owned_image, "true").stdout.strip()
    gone = {m["Name"] for m in daemon.inspect(removed)["Mounts"]} - {named}
    daemon.client(client, "rm", "-v", removed)
    assert not gone & volume_names(daemon) and named in volume_names(daemon)  # rm -v: anonymous ones only
    daemon.client(client, "run", "--rm", "-v", "/scratch", owned_image, "true")
    assert volume_names(daemon) - before == anonymous | {named}  # --rm took its anonymous volumes
    daemon.cli("volume", "rm", named, *anonymous)


def test_volumes_from_shares_and_ro_is_enforced(daemon, client):
    source = unique("source")
    daemon.client(client, "create", "--name", source, "-v", "/shared", "busybox", "true")
    daemon.client(client, "run", "--rm", "--volumes-from", source, "busybox", "sh", "-c", "echo hi > /shared/f")
    out = daemon.client(client, "run", "--rm", "--volumes-from", f"{source}:ro", "busybox", "cat", "/shared/f")
    assert out.stdout == "hi\n"
    refused = daemon.client(
        client, "run", "--rm", "--volumes-from", f"{source}:ro", "busybox", "touch", "/shared/g", check=False
    )
    assert "Read-only file system" in refused.stderr
    name = daemon.inspect(source)["Mounts"][0]["Name"]
    in_use = daemon.client(client, "volume", "rm", name, check=False)
    assert in_use.returncode != 0 and f"remove {name}: volume is in use" in in_use.stderr
    daemon.client(client, "rm", "-v", source)
    assert name not in volume_names(daemon)


def test_mount_of_each_type_and_inspect_shape(daemon, client, tmp_path):
    (tmp_path / "hostfile").write_text("from host\n")
    name = unique("mounted")
    volume = unique("mv")
    daemon.client(
        client,
        "run",
        "--name",
        name,
        "--mount",
        f"type=bind,source={tmp_path},target=/b,readonly,bind-propagation=rslave",
        "--mount",
        f"type=volume,source={volume},target=/v,volume-nocopy",
        "--mount",
        "type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770",
        "--tmpfs",
        "/run/x:size=2m",
        "busybox",
        "sh",
        "-c",
        "cat /b/hostfile; touch /b/no 2>&1; grep -E ' /(t|run/x) ' /proc/mounts | cut -d' ' -f2,4; stat -c %a /t",
    )
    out = daemon.cli("logs", name).stdout.splitlines()
    assert out[0] == "from host" and "Read-only file system" in out[1]
    assert "/t rw,nosuid,nodev,relatime,size=1024k,mode=1770" in out
    assert "/run/x rw,nosuid,nodev,noexec,relatime,size=2048k" in out
    assert out[-1] == "1770"
    mounts = {m["Destination"]: m for m in daemon.inspect(name)["Mounts"]}
    assert set(mounts) == {"/b", "/v", "/t"}  # --tmpfs is not listed, as dockerd
    assert mounts["/b"] == {
        "Type": "bind",
        "Source": str(tmp_path),
        "Destination": "/b",
        "Mode": "",
        "RW": False,
        "Propagation": "rslave",
    }
    assert mounts["/v"]["Name"] == volume and mounts["/v"]["Mode"] == "z" and mounts["/v"]["Driver"] == "local"
    assert mounts["/t"] == {
        "Type": "tmpfs",
        "Source": "",
        "Destination": "/t",
        "Mode": "",
        "RW": True,
        "Propagation": "",
    }
    daemon.cli("rm", name)
    daemon.cli("volume", "rm", volume)


def test_read_only_binds_reach_mounts_below_them_unless_asked_otherwise(daemon, client, tmp_path):
    """API 1.44: `ro` binds are read-only recursively (a mount under the source too);
    bind-recursive=writable leaves the mounts below as they are."""
    source, sub = tmp_path / "src", tmp_path / "src" / "sub"
    sub.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(sub)], check=True)
    try:
        probe = ["busybox", "sh", "-c", "touch /b/sub/x && echo wrote || echo refused"]
        cases = {
            ("-v", f"{source}:/b:ro"): "refused",
            ("--mount", f"type=bind,src={source},dst=/b,readonly"): "refused",
            (
                "--mount",
                f"type=bind,src={source},dst=/b,readonly,bind-recursive=readonly,bind-propagation=rprivate",
            ): "refused",
            ("--mount", f"type=bind,src={source},dst=/b,readonly,bind-propagation=rslave"): "wrote",
            ("--mount", f"type=bind,src={source},dst=/b,readonly,bind-recursive=writable"): "wrote",
        }
        for flags, expected in cases.items():
            out = daemon.client(client, "run", "--rm", *flags, *probe).stdout.split()
            assert out[-1] == expected, flags
        if client == "docker":  # a client speaking API 1.43 gets the read-only top only, as before 1.44
            old = docker.DockerClient(base_url=daemon.host, version="1.43", timeout=60)
            try:
                out = old.containers.run(
                    "busybox", probe[1:], volumes={str(source): {"bind": "/b", "mode": "ro"}}, remove=True
                )
            finally:
                old.close()
            assert out.split()[-1] == b"wrote"
    finally:
        subprocess.run(["umount", str(sub)], check=True)


def test_bind_source_missing_and_bad_mounts(daemon, client, tmp_path):
    missing = tmp_path / "nope"
    refused = daemon.client(
        client, "create", "--mount", f"type=bind,src={missing},dst=/x", "busybox", "true", check=False
    )
    assert refused.returncode != 0
    assert f'invalid mount config for type "bind": bind source path does not exist: {missing}' in refused.stderr
    made = daemon.client(client, "run", "--rm", "-v", f"{missing}:/x", "busybox", "true")  # -v makes it
    assert made.returncode == 0 and missing.is_dir()
    bad = daemon.client(client, "create", "--mount", "type=volume,dst=/x,bogus=1", "busybox", "true", check=False)
    assert bad.returncode != 0 and "unexpected key 'bogus'" in bad.stderr
    before = volume_names(daemon)
    bad_mode = daemon.client(client, "create", "-v", "x1:/x:rw,ro", "busybox", "true", check=False)
    assert bad_mode.returncode != 0 and "invalid mode: rw,ro" in bad_mode.stderr
    assert volume_names(daemon) == before  # nothing made for a refused request


def test_volume_verbs_filters_prune_and_tmpfs_options(daemon, client):
    label = unique("team")
    tmpfs, plain = unique("tmpfsvol"), unique("plain")
    daemon.client(client, "volume", "create", "--label", f"team={label}", "-o", "type=tmpfs", "-o", "device=tmpfs",
                  "-o", "o=size=1m,uid=7", tmpfs)  # fmt: skip
    daemon.client(client, "volume", "create", "--label", f"team={label}", plain)
    shown = json.loads(daemon.client(client, "volume", "inspect", tmpfs).stdout)[0]
    assert shown["Options"] == {"type": "tmpfs", "device": "tmpfs", "o": "size=1m,uid=7"}
    assert shown["Labels"] == {"team": label}
    out = daemon.cli(
        "run", "--rm", "-v", f"{tmpfs}:/m", "busybox", "sh", "-c", "grep ' /m ' /proc/mounts; stat -c %u /m"
    )
    assert " tmpfs " in out.stdout and "size=1024k" in out.stdout and out.stdout.endswith("7\n")
    assert not os.path.ismount(shown["Mountpoint"])  # unmounted with its last user
    listed = daemon.client(client, "volume", "ls", "-q", "--filter", f"label=team={label}").stdout.split()
    assert sorted(listed) == sorted([tmpfs, plain])
    assert daemon.client(client, "volume", "ls", "-q", "--filter", f"name={plain}").stdout.split() == [plain]
    pruned = daemon.client(client, "volume", "prune", "-f", "--filter", f"label=team={label}")
    assert plain in volume_names(daemon)  # named volumes stay without -a
    pruned = daemon.client(client, "volume", "prune", "-af", "--filter", f"label=team={label}")
    assert tmpfs in pruned.stdout and plain in pruned.stdout
    assert not {tmpfs, plain} & volume_names(daemon)
    bad = daemon.client(client, "volume", "create", "-o", "bogus=1", unique("bad"), check=False)
    assert bad.returncode != 0 and 'invalid option: "bogus"' in bad.stderr


def test_sdk_volumes(daemon):
    sdk = daemon.sdk()
    name = unique("sdk")
    volume = sdk.volumes.create(name, labels={"a": "b"})
    assert sdk.volumes.get(name).attrs["Labels"] == {"a": "b"}
    assert name in [v.name for v in sdk.volumes.list(filters={"label": "a=b"})]
    out = sdk.containers.run("busybox", ["sh", "-c", "echo sdk > /v/f; cat /v/f"], volumes={name: {"bind": "/v"}},
                             remove=True)  # fmt: skip
    assert out == b"sdk\n"
    volume.remove()
    sdk.close()

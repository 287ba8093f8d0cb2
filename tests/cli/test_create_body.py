"""`create`/`run` flags -> the POST /containers/create body, checked against what the real
docker CLI sends for the same flags (both pointed at a recording unix socket)."""

import os
import shutil
import subprocess

import pytest

from dockyard.cli.flags import UsageError
from dockyard.cli.runopts import container_parser, container_request
from dockyard.errors import InvalidArgument
from tests.cli.conftest import run_cli
from tests.cli.recorder import Recorder

DOCKER = shutil.which("docker")
CREATED = (201, {"Id": "a" * 64, "Warnings": []})
DATA_KEYS = ("ExposedPorts", "Volumes", "Tmpfs")

FLAG_SETS = [
    ["busybox"],
    [
        "-i",
        "-t",
        "--name",
        "web",
        "-e",
        "A=1",
        "-e",
        "FROM_ENV",
        "-e",
        "UNSET_VAR",
        "-w",
        "/tmp",
        "-u",
        "1000:1000",
        "--entrypoint",
        "/bin/sh",
        "-h",
        "host1",
        "-l",
        "k=v",
        "-l",
        "flag",
        "busybox",
        "sh",
        "-c",
        "echo hi",
    ],
    [
        "-p",
        "8080:80",
        "-p",
        "127.0.0.1:5353:53/udp",
        "-p",
        "9000-9001:9000-9001",
        "-p",
        "80",
        "-p",
        "[::1]:7000:7000",
        "-P",
        "--expose",
        "7000-7001",
        "--expose",
        "99/udp",
        "busybox",
    ],
    [
        "--network",
        "mynet",
        "--network-alias",
        "al",
        "--dns",
        "1.1.1.1",
        "--dns-search",
        "example.com",
        "--add-host",
        "h:1.2.3.4",
        "--add-host",
        "g=5.6.7.8",
        "busybox",
    ],
    ["--network", "host", "--rm", "busybox"],
    [
        "--network",
        "net1",
        "--ip",
        "10.9.0.9",
        "--link-local-ip",
        "169.254.9.9",
        "--link-local-ip",
        "fe80::9",
        "busybox",
    ],
    ["--network", "net1", "--link-local-ip", "169.254.9.9", "busybox"],
    ["--network", "net1", "--ip6", "fd00:1::9", "--link", "db:alias", "busybox"],
    ["--link", "db:alias", "--link", "web", "busybox"],
    [
        "--cpu-period",
        "50000",
        "--cpu-quota",
        "25000",
        "--cpuset-cpus",
        "0",
        "--cpuset-mems",
        "0",
        "--memory-swappiness",
        "10",
        "--oom-kill-disable",
        "--oom-score-adj",
        "300",
        "--blkio-weight",
        "500",
        "--cgroup-parent",
        "mine",
        "--memory-reservation",
        "32m",
        "--health-cmd",
        "true",
        "--health-start-interval",
        "2s",
        "--init",
        "busybox",
    ],
    [
        "-v",
        "/src:/dst:ro",
        "-v",
        "named:/data",
        "-v",
        "/anon",
        "--mount",
        "type=bind,source=/a,target=/b,readonly",
        "--mount",
        "type=tmpfs,target=/t,tmpfs-size=1m",
        "--mount",
        "source=vol,target=/m,volume-nocopy",
        "--tmpfs",
        "/run:rw,size=64m",
        "--tmpfs",
        "/scratch",
        "busybox",
    ],
    [
        "--restart",
        "on-failure:3",
        "--log-opt",
        "max-size=1m",
        "--log-driver",
        "json-file",
        "--memory",
        "512m",
        "--cpus",
        "1.5",
        "--pids-limit",
        "100",
        "--cap-add",
        "NET_ADMIN",
        "--cap-drop",
        "mknod",
        "--privileged",
        "--read-only",
        "--stop-signal",
        "SIGUSR1",
        "--stop-timeout",
        "5",
        "--init",
        "busybox",
    ],
    ["-a", "stdout", "-i", "--env-file", "{envfile}", "--platform", "linux/amd64", "busybox", "true"],
    [
        "--health-cmd",
        "true",
        "--health-interval",
        "5s",
        "--health-retries",
        "3",
        "--shm-size",
        "64m",
        "--ulimit",
        "nofile=1024:2048",
        "--security-opt",
        "no-new-privileges",
        "--pid",
        "host",
        "busybox",
    ],
    [
        "--security-opt",
        "seccomp={profile}",
        "--security-opt",
        "systempaths=unconfined",
        "--sysctl",
        "net.ipv4.ip_forward=1",
        "--sysctl",
        "kernel.shmmax=65536",
        "--device-cgroup-rule",
        "c 42:* rmw",
        "--device",
        "/dev/null:/dev/x:r",
        "--ipc",
        "shareable",
        "--cgroupns",
        "private",
        "busybox",
    ],
]


def normalize(value, parent: str = ""):
    """Drop zero values (docker sends every field), keep data-keyed maps whole, sort Env, Binds
    and IPAM pools (docker builds them from Go maps, so their order varies run to run)."""
    if isinstance(value, dict):
        if parent in DATA_KEYS:
            return value
        out = {k: normalize(v, k) for k, v in value.items()}
        return {
            k: v
            for k, v in out.items()
            if v not in (None, "", 0, False, [], {}, [0, 0]) and not (k == "MemorySwappiness" and v == -1)
        }
    if isinstance(value, list):
        items = [normalize(v) for v in value]
        if parent == "Config" and all(isinstance(v, dict) and "Subnet" in v for v in items):
            return sorted(items, key=lambda pool: pool["Subnet"])  # docker's CLI builds IPAM pools from a Go map
        return sorted(items) if parent in ("Env", "Binds") else items
    return value


def strip_default_endpoint(body: dict) -> dict:
    endpoints = (body.get("NetworkingConfig") or {}).get("EndpointsConfig") or {}
    if "default" in endpoints and not endpoints["default"]:
        del endpoints["default"]
    return body


def capture(socket_path: str, argv: list[str], env: dict) -> tuple[dict, str]:
    recorder = Recorder(socket_path, {("POST", "/containers/create"): CREATED}).start()
    try:
        if argv[0] == "docker":
            done = subprocess.run(
                [DOCKER, "-H", f"unix://{socket_path}", *argv[1:]],
                capture_output=True,
                env={**os.environ, **env},
                timeout=30,
            )
        else:
            done = run_cli(argv, socket_path, env=env)
        assert done.returncode == 0, done.stderr.decode()
        request = recorder.find("POST", "/containers/create")[0]
        return strip_default_endpoint(normalize(request.body)), request.query.get("platform", [""])[0]
    finally:
        recorder.stop()


@pytest.mark.skipif(DOCKER is None, reason="the real docker CLI is not installed")
@pytest.mark.parametrize("flags", FLAG_SETS, ids=lambda flags: " ".join(flags)[:40])
def test_same_body_as_docker(flags, tmp_path):
    envfile = tmp_path / "env"
    envfile.write_text("X=1\n# comment\n\nFROM_ENV\nNOT_IN_ENV\n")
    profile = tmp_path / "profile.json"
    profile.write_text(
        '{\n  "defaultAction": "SCMP_ACT_ERRNO",\n  "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]\n}\n'
    )
    flags = [f.replace("{envfile}", str(envfile)).replace("{profile}", str(profile)) for f in flags]
    env = {"DOCKER_CONFIG": str(tmp_path / "dcfg"), "FROM_ENV": "hello"}
    theirs = capture(str(tmp_path / "docker.sock"), ["docker", "create", *flags], env)
    ours = capture(str(tmp_path / "dockyard.sock"), ["create", *flags], env)
    assert ours == theirs


def build(argv: list[str], environ=None, env_files=(), detached=False):
    ns = container_parser("dockyard run", run=True).parse(argv)
    return container_request(ns, environ or {}, list(env_files), detached or ns.detach)


def test_run_detached_attaches_nothing():
    _, body = build(["-d", "-i", "busybox"])
    assert (body["AttachStdin"], body["AttachStdout"], body["AttachStderr"]) == (False, False, False)
    assert body["OpenStdin"] is True and body["StdinOnce"] is False


def test_command_after_image_keeps_its_own_flags():
    _, body = build(["--rm", "busybox", "ls", "-l", "--rm", "-e"])
    assert body["Cmd"] == ["ls", "-l", "--rm", "-e"] and "Env" not in body
    assert body["HostConfig"]["AutoRemove"] is True


def test_empty_entrypoint_resets_it():
    _, body = build(["--entrypoint", "", "busybox"])
    assert body["Entrypoint"] == [""]


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--rm", "--restart", "always", "busybox"], "cannot specify both --restart and --rm"),
        (["--network-alias", "x", "busybox"], "network-scoped aliases are only supported for user-defined networks"),
        (["-d", "-a", "stdout", "busybox"], "cannot specify both --attach and --detach"),
        (["-a", "stdfoo", "busybox"], "valid streams are STDIN, STDOUT and STDERR"),
        (["-p", "80:abc", "busybox"], "invalid containerPort: abc"),
        (["-p", "1-3:4-5", "busybox"], "invalid ranges specified"),
        (["-p", "80/xyz", "busybox"], "invalid proto: xyz"),
        (["-v", "relative", "busybox"], "mount path must be absolute"),
        (["--mount", "type=bind,target=/x", "busybox"], "source is required when specifying bind mounts"),
        (["--mount", "type=bind,source=/a", "busybox"], "target is required"),
        (["--mount", "type=volume,src=a,dst=/b,bogus=1", "busybox"], "unexpected key 'bogus'"),
        (
            ["--mount", "type=bind,src=/a,dst=/b,tmpfs-size=1m", "busybox"],
            "cannot mix 'TmpfsOptions' options with type 'bind'",
        ),
        (["--restart", "sometimes", "busybox"], "unknown policy 'sometimes'"),
        (["--restart", "always:3", "busybox"], "maximum retry count can only be used with 'on-failure'"),
        (["--memory", "lots", "busybox"], "invalid size: 'lots'"),
        (["--add-host", "nohost", "busybox"], "bad format for add-host"),
    ],
)
def test_bad_flags_are_rejected(argv, message):
    with pytest.raises(InvalidArgument, match=message):
        build(argv)


def test_unknown_flag_is_a_usage_error():
    with pytest.raises(UsageError, match="unknown flag: --bogus"):
        build(["--bogus", "busybox"])


def parse_run(argv):
    return container_parser("dockyard run", run=True).parse(argv)


def test_bool_flags_take_explicit_values_like_docker():
    ns = parse_run(["--sig-proxy=false", "-d=true", "--rm=false", "busybox", "echo", "--rm=true"])
    assert (ns.sig_proxy, ns.detach, ns.rm) == (False, True, False)
    assert ns.command == ["echo", "--rm=true"]
    ns = parse_run(["--env=--rm=true", "-w", "/x", "--sig-proxy", "busybox"])
    assert ns.env == ["--rm=true"] and ns.rm is False and ns.sig_proxy is True and ns.image == "busybox"


def test_bad_bool_value_is_a_usage_error():
    with pytest.raises(UsageError, match='invalid argument "maybe" for "--rm" flag'):
        parse_run(["--rm=maybe", "busybox"])


EXEC_REPLIES = {
    ("POST", "/containers/web/exec"): (201, {"Id": "e1"}),
    ("POST", "/exec/e1/start"): (200, ""),
    ("GET", "/containers/web/json"): (200, {"Id": "web", "State": {"Running": True}, "Config": {}}),
}


def capture_exec(socket_path: str, argv: list[str], env: dict) -> tuple[dict, dict]:
    recorder = Recorder(socket_path, dict(EXEC_REPLIES)).start()
    try:
        if argv[0] == "docker":
            done = subprocess.run(
                [DOCKER, "-H", f"unix://{socket_path}", *argv[1:]],
                capture_output=True,
                env={**os.environ, **env},
                timeout=30,
            )
        else:
            done = run_cli(argv, socket_path, env=env)
        assert done.returncode == 0, done.stderr.decode()
        create = recorder.find("POST", "/containers/web/exec")[0].body
        start = recorder.find("POST", "/exec/e1/start")[0].body
        return normalize(create), normalize(start)
    finally:
        recorder.stop()


@pytest.mark.skipif(DOCKER is None, reason="the real docker CLI is not installed")
@pytest.mark.parametrize(
    "flags",
    [
        ["-d", "web", "true"],
        ["-d", "-e", "A=1", "-e", "FROM_ENV", "-w", "/tmp", "-u", "1:2", "--privileged", "web", "sh", "-c", "echo hi"],
        ["-d", "-i", "-t", "web", "sh"],
    ],
)
def test_exec_bodies_match_docker(flags, tmp_path):
    env = {"DOCKER_CONFIG": str(tmp_path / "dcfg"), "FROM_ENV": "hello"}
    theirs = capture_exec(str(tmp_path / "docker.sock"), ["docker", "exec", *flags], env)
    ours = capture_exec(str(tmp_path / "dockyard.sock"), ["exec", *flags], env)
    assert ours == theirs


@pytest.mark.skipif(DOCKER is None, reason="the real docker CLI is not installed")
@pytest.mark.parametrize(
    "argv,path",
    [
        (
            [
                "network",
                "create",
                "--subnet",
                "10.9.0.0/24",
                "--gateway",
                "10.9.0.1",
                "--label",
                "a=b",
                "-o",
                "com.docker.network.bridge.name=br9",
                "--internal",
                "net1",
            ],
            "/networks/create",
        ),
        (["volume", "create", "--label", "x=y", "-o", "type=tmpfs", "vol1"], "/volumes/create"),
        (
            ["network", "connect", "--link-local-ip", "169.254.7.7", "--ip", "10.9.0.7", "net1", "c1"],
            "/networks/net1/connect",
        ),
        (["network", "connect", "--alias", "a", "net1", "c1"], "/networks/net1/connect"),
        (["network", "connect", "--ip6", "fd00:1::7", "--link", "db:x", "net1", "c1"], "/networks/net1/connect"),
        (
            [
                "network",
                "create",
                "--ipv6",
                "--subnet",
                "10.9.0.0/24",
                "--subnet",
                "fd00:9::/64",
                "--gateway",
                "10.9.0.1",
                "--aux-address",
                "r=fd00:9::5",
                "net1",
            ],
            "/networks/create",
        ),  # fmt: skip
    ],
)
def test_network_and_volume_bodies_match_docker(argv, path, tmp_path):
    replies = {
        ("POST", "/networks/create"): (201, {"Id": "n1"}),
        ("POST", "/volumes/create"): (201, {"Name": "v1"}),
        ("POST", "/networks/net1/connect"): (200, {}),
    }
    bodies = []
    for name, command in (("docker", [DOCKER]), ("dockyard", None)):
        sock = str(tmp_path / f"{name}.sock")
        recorder = Recorder(sock, dict(replies)).start()
        try:
            if command:
                done = subprocess.run(
                    [*command, "-H", f"unix://{sock}", *argv],
                    capture_output=True,
                    timeout=30,
                    env={**os.environ, "DOCKER_CONFIG": str(tmp_path / "dcfg")},
                )
            else:
                done = run_cli(argv, sock)
            assert done.returncode == 0, done.stderr
            bodies.append(normalize(recorder.find("POST", path)[0].body))
        finally:
            recorder.stop()
    assert bodies[1] == bodies[0]

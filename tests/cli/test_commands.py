"""Verbs end to end against a scripted daemon: requests sent, output printed, exit codes."""

import base64
import json
import os
import threading
import time

import pytest

from dockyard.cli.client import DEFAULT_HOST, DaemonUnreachable
from dockyard.multiplex import STDERR, STDOUT, encode_frame
from tests.cli.conftest import run_cli
from tests.cli.recorder import chunked, encode, head

CID = "c0ffee" + "0" * 58
NO_DAEMON = "Cannot connect to the dockyard daemon at {}. Is the daemon running? Start it with: dockyard daemon"


def test_no_daemon_exits_1_with_docker_like_message(tmp_path):
    host = f"unix://{tmp_path}/absent.sock"
    done = run_cli(["ps"], str(tmp_path / "absent.sock"))
    assert done.returncode == 1
    assert done.stderr.decode().strip() == NO_DAEMON.format(host)
    assert done.stdout == b""


def test_default_socket_message():
    assert str(DaemonUnreachable(DEFAULT_HOST)) == NO_DAEMON.format("unix:///run/dockyard/dockyard.sock")
    if os.path.exists("/run/dockyard/dockyard.sock"):
        pytest.skip("a daemon is listening on the default socket")
    done = run_cli(["ps"])
    assert done.returncode == 1 and done.stderr.decode().strip() == NO_DAEMON.format(DEFAULT_HOST)


def test_dockyard_host_variable_is_used(tmp_path):
    done = run_cli(["ps"], env={"DOCKYARD_HOST": f"unix://{tmp_path}/via-env.sock"})
    assert done.returncode == 1 and f"unix://{tmp_path}/via-env.sock" in done.stderr.decode()


def test_version_flag_needs_no_daemon():
    done = run_cli(["--version"])
    assert done.returncode == 0 and done.stdout.decode().startswith("dockyard version ")


def test_unknown_flag_exits_125(cli):
    done = cli("ps", "--bogus")
    assert done.returncode == 125
    assert done.stderr.decode().splitlines() == ["unknown flag: --bogus", "See 'dockyard ps --help'."]


def test_unknown_command_exits_1():
    done = run_cli(["frobnicate"])
    assert done.returncode == 1 and "unknown command" in done.stderr.decode()


def test_ps_table_and_query(cli, daemon):
    daemon.replies[("GET", "/containers/json")] = (
        200,
        [
            {
                "Id": CID,
                "Names": ["/web"],
                "Image": "busybox",
                "Command": "sleep 1000",
                "Created": int(time.time()) - 3 * 3600,
                "State": "running",
                "Status": "Up 3 seconds",
                "Ports": [],
            }
        ],
    )
    done = cli("ps", "-a", "-f", "status=running", "-f", "label=a=b")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode().splitlines()
    assert lines == [
        "CONTAINER ID   IMAGE     COMMAND        CREATED       STATUS         PORTS     NAMES",
        'c0ffee000000   busybox   "sleep 1000"   3 hours ago   Up 3 seconds             web',
    ]
    request = daemon.find("GET", "/containers/json")[0]
    assert request.path == "/v1.44/containers/json"
    assert request.query["all"] == ["1"]
    assert json.loads(request.query["filters"][0]) == {"status": {"running": True}, "label": {"a=b": True}}


def test_management_form_is_the_same_verb(cli, daemon):
    daemon.replies[("GET", "/containers/json")] = (200, [])
    assert cli("container", "ls", "-q").stdout == b""
    assert cli("container", "ls", "-q").returncode == 0
    assert len(daemon.find("GET", "/containers/json")) == 2


def test_daemon_error_is_printed_with_exit_1(cli):
    done = cli("rm", "-f", "ghost")
    assert done.returncode == 1
    assert done.stderr.decode() == "Error response from daemon: not recorded: /containers/ghost\n"


def test_multi_target_verbs_continue_after_a_failure(cli, daemon):
    daemon.replies[("POST", "/containers/a/stop")] = (204, "")
    daemon.replies[("POST", "/containers/c/stop")] = (304, "")
    daemon.replies[("POST", "/containers/b/stop")] = (404, {"message": "No such container: b"})
    done = cli("stop", "-t", "3", "a", "b", "c")
    assert done.returncode == 1
    assert done.stdout.decode().splitlines() == ["a", "c"]
    assert done.stderr.decode() == "Error response from daemon: No such container: b\n"
    assert daemon.find("POST", "/containers/a/stop")[0].query["t"] == ["3"]


def test_inspect_format_and_missing_object(cli, daemon):
    daemon.replies[("GET", "/containers/web/json")] = (
        200,
        {"Id": CID, "State": {"Status": "running"}, "Config": {"Image": "busybox"}},
    )
    done = cli("inspect", "-f", "{{.State.Status}} {{.Config.Image}}", "web")
    assert (done.returncode, done.stdout) == (0, b"running busybox\n")
    done = cli("inspect", "nothing")
    assert done.returncode == 1
    assert done.stdout == b"[]\n" and done.stderr == b"Error: No such object: nothing\n"


def test_inspect_json_is_indented_array(cli, daemon):
    daemon.replies[("GET", "/images/busybox/json")] = (200, {"Id": "sha256:x"})
    done = cli("image", "inspect", "busybox")
    assert done.stdout.decode() == '[\n    {\n        "Id": "sha256:x"\n    }\n]\n'


def start_gate():
    """Replies for attach / wait / start that behave like a daemon: output only after start."""
    started = threading.Event()

    def start(conn, request):
        started.set()
        conn.sendall(encode(204, ""))

    def attach(conn, request):
        conn.sendall(
            head(
                101,
                {
                    "Content-Type": "application/vnd.docker.multiplexed-stream",
                    "Connection": "Upgrade",
                    "Upgrade": "tcp",
                },
            )
        )
        started.wait(10)
        conn.sendall(encode_frame(STDOUT, b"out line\n") + encode_frame(STDERR, b"err line\n"))

    def wait(conn, request):
        conn.sendall(head(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}))
        started.wait(10)
        body = b'{"StatusCode":3,"Error":null}\n'
        conn.sendall(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))

    return attach, wait, start


def test_run_pulls_attaches_waits_and_exits_with_the_code(cli, daemon):
    attach, wait, start = start_gate()
    pull = [
        json.dumps(m).encode() + b"\n"
        for m in (
            {"status": "Pulling from library/busybox", "id": "latest"},
            {"status": "Pulling fs layer", "progressDetail": {}, "id": "abc"},
            {"status": "Downloading", "progressDetail": {"current": 1, "total": 2}, "id": "abc"},
            {"status": "Pull complete", "progressDetail": {}, "id": "abc"},
            {"status": "Status: Downloaded newer image for busybox:latest"},
        )
    ]
    daemon.replies.update(
        {
            ("POST", "/containers/create"): [
                (404, {"message": "No such image: busybox:latest"}),
                (201, {"Id": CID, "Warnings": []}),
            ],
            ("POST", "/images/create"): chunked(200, pull),
            ("POST", f"/containers/{CID}/attach"): attach,
            ("POST", f"/containers/{CID}/wait"): wait,
            ("POST", f"/containers/{CID}/start"): start,
        }
    )
    done = cli("run", "--rm", "busybox", "sh", "-c", "exit 3")
    assert done.returncode == 3, done.stderr
    assert done.stdout == b"out line\n"
    assert done.stderr.decode().splitlines() == [
        "Unable to find image 'busybox:latest' locally",
        "latest: Pulling from library/busybox",
        "abc: Pulling fs layer",
        "abc: Pull complete",
        "Status: Downloaded newer image for busybox:latest",
        "err line",
    ]
    order = [(r.method, r.path.removeprefix("/v1.44")) for r in daemon.requests]
    assert order == [
        ("POST", "/containers/create"),
        ("POST", "/images/create"),
        ("POST", "/containers/create"),
        ("POST", f"/containers/{CID}/attach"),
        ("POST", f"/containers/{CID}/wait"),
        ("POST", f"/containers/{CID}/start"),
    ]
    assert daemon.find("POST", "/images/create")[0].query == {"fromImage": ["busybox"], "tag": ["latest"]}
    assert daemon.find("POST", "/wait")[0].query["condition"] == ["removed"]
    attach_request = daemon.find("POST", "/attach")[0]
    assert attach_request.headers["upgrade"] == "tcp" and attach_request.query["stdin"] == ["0"]


@pytest.mark.parametrize(
    "message,code",
    [
        ('exec: "nope": executable file not found in $PATH', 127),
        ("open /bin/x: permission denied", 126),
        ("cgroup setup failed", 125),
    ],
)
def test_run_start_failure_exit_codes(cli, daemon, message, code):
    attach, wait, _ = start_gate()
    daemon.replies.update(
        {
            ("POST", "/containers/create"): (201, {"Id": CID}),
            ("POST", f"/containers/{CID}/attach"): attach,
            ("POST", f"/containers/{CID}/wait"): (200, {"StatusCode": 0}),
            ("POST", f"/containers/{CID}/start"): (500, {"message": message}),
        }
    )
    done = cli("run", "busybox", "nope")
    assert done.returncode == code
    assert message in done.stderr.decode()


def test_run_detached_prints_the_id(cli, daemon):
    daemon.replies.update(
        {
            ("POST", "/containers/create"): (201, {"Id": CID, "Warnings": ["low memory"]}),
            ("POST", f"/containers/{CID}/start"): (204, ""),
        }
    )
    done = cli("run", "-d", "--name", "web", "busybox", "sleep", "1")
    assert (done.returncode, done.stdout.decode()) == (0, CID + "\n")
    assert done.stderr == b"WARNING: low memory\n"
    assert daemon.find("POST", "/containers/create")[0].query["name"] == ["web"]
    assert not daemon.find("POST", "/attach")


def test_create_error_exits_1_like_docker(cli, daemon):
    daemon.replies[("POST", "/containers/create")] = (
        409,
        {"message": 'Conflict. The container name "/web" is already in use'},
    )
    done = cli("create", "--name", "web", "busybox")
    assert done.returncode == 1
    assert done.stderr.decode() == 'Error response from daemon: Conflict. The container name "/web" is already in use\n'


def test_exec_sends_config_and_returns_exit_code(cli, daemon):
    daemon.replies.update(
        {
            ("POST", "/containers/web/exec"): (201, {"Id": "e1"}),
            ("POST", "/exec/e1/start"): lambda conn, request: conn.sendall(
                head(101, {"Upgrade": "tcp", "Connection": "Upgrade"}) + encode_frame(STDOUT, b"hi\n")
            ),
            ("GET", "/exec/e1/json"): (200, {"ExitCode": 7, "Running": False}),
        }
    )
    done = cli("exec", "-e", "A=1", "-w", "/tmp", "-u", "nobody", "web", "echo", "hi")
    assert (done.returncode, done.stdout) == (7, b"hi\n")
    body = daemon.find("POST", "/containers/web/exec")[0].body
    assert body["Cmd"] == ["echo", "hi"] and body["Env"] == ["A=1"] and body["WorkingDir"] == "/tmp"
    assert body["User"] == "nobody" and body["AttachStdout"] and not body["AttachStdin"] and not body["Tty"]
    assert daemon.find("POST", "/exec/e1/start")[0].body == {"Detach": False, "Tty": False}


def test_logs_demultiplexes_a_chunked_stream(cli, daemon):
    frames = encode_frame(STDOUT, b"one\n") + encode_frame(STDERR, b"two\n") + encode_frame(STDOUT, b"three\n")
    daemon.replies.update(
        {
            ("GET", "/containers/web/json"): (200, {"Id": CID, "Config": {"Tty": False}}),
            ("GET", f"/containers/{CID}/logs"): chunked(
                200, [frames[:5], frames[5:19], frames[19:]], "application/vnd.docker.multiplexed-stream"
            ),
        }
    )
    done = cli("logs", "--tail", "3", "-t", "web")
    assert (done.returncode, done.stdout, done.stderr) == (0, b"one\nthree\n", b"two\n")
    query = daemon.find("GET", "/logs")[0].query
    assert query["tail"] == ["3"] and query["timestamps"] == ["1"] and query["stdout"] == ["1"]


def test_pull_plain_output_and_stream_error(cli, daemon):
    lines = [
        b'{"status":"Pulling from library/busybox","id":"1.36"}\n',
        b'{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}\n',
    ]
    daemon.replies[("POST", "/images/create")] = chunked(200, lines)
    done = cli("pull", "busybox:1.36")
    assert done.returncode == 1
    assert done.stdout == b"1.36: Pulling from library/busybox\n"
    assert done.stderr == b"manifest unknown\n"


def test_login_stores_credentials_like_docker_and_logout_removes_them(cli, daemon, tmp_path):
    daemon.replies[("POST", "/auth")] = (200, {"Status": "Login Succeeded"})
    env = {"DOCKER_CONFIG": str(tmp_path / "cfg")}
    done = cli("login", "-u", "alice", "--password-stdin", "localhost:5000", stdin=b"s3cret\n", env=env)
    assert (done.returncode, done.stdout) == (0, b"Login Succeeded\n"), done.stderr
    assert daemon.find("POST", "/auth")[0].body == {
        "username": "alice",
        "password": "s3cret",
        "serveraddress": "localhost:5000",
    }
    config_file = tmp_path / "cfg" / "config.json"
    stored = json.loads(config_file.read_text())
    assert stored["auths"]["localhost:5000"]["auth"] == base64.b64encode(b"alice:s3cret").decode()
    assert oct(config_file.stat().st_mode & 0o777) == "0o600"
    daemon.replies[("POST", "/images/create")] = chunked(200, [b'{"status":"ok"}\n'])
    cli("pull", "localhost:5000/app:1", env=env)
    sent = daemon.find("POST", "/images/create")[0].headers["x-registry-auth"]
    assert json.loads(base64.urlsafe_b64decode(sent))["username"] == "alice"
    done = cli("logout", "localhost:5000", env=env)
    assert done.stdout == b"Removing login credentials for localhost:5000\n"
    assert json.loads(config_file.read_text())["auths"] == {}


def test_pull_and_push_use_the_credential_helper_docker_would(cli, daemon, tmp_path):
    """credHelpers wins over auths, as in docker; the helper speaks docker-credential-helpers' protocol."""
    bindir, config = tmp_path / "bin", tmp_path / "cfg"
    bindir.mkdir(), config.mkdir()
    helper = bindir / "docker-credential-dytest"
    helper.write_text(
        '#!/bin/sh\nread server\necho "{\\"ServerURL\\":\\"$server\\",\\"Username\\":\\"bob\\",\\"Secret\\":\\"pw\\"}"\n'
    )
    helper.chmod(0o755)
    stale = base64.b64encode(b"alice:old").decode()
    (config / "config.json").write_text(
        json.dumps({"auths": {"localhost:5000": {"auth": stale}}, "credHelpers": {"localhost:5000": "dytest"}})
    )
    env = {"DOCKER_CONFIG": str(config), "PATH": f"{bindir}:{os.environ['PATH']}"}
    daemon.replies[("POST", "/images/create")] = chunked(200, [b'{"status":"ok"}\n'])
    daemon.replies[("POST", "/images/localhost:5000/app/push")] = chunked(200, [b'{"status":"ok"}\n'])
    assert cli("pull", "localhost:5000/app:1", env=env).returncode == 0
    assert cli("push", "localhost:5000/app:1", env=env).returncode == 0
    for method, path in (("POST", "/images/create"), ("POST", "/images/localhost:5000/app/push")):
        sent = json.loads(base64.urlsafe_b64decode(daemon.find(method, path)[0].headers["x-registry-auth"]))
        assert sent == {"username": "bob", "password": "pw", "serveraddress": "localhost:5000"}


def test_login_rejected_stores_nothing(cli, daemon, tmp_path):
    daemon.replies[("POST", "/auth")] = (401, {"message": "Get http://localhost:5000/v2/: unauthorized"})
    env = {"DOCKER_CONFIG": str(tmp_path / "cfg")}
    done = cli("login", "-u", "alice", "-p", "bad", "localhost:5000", env=env)
    assert done.returncode == 1 and "unauthorized" in done.stderr.decode()
    assert not (tmp_path / "cfg" / "config.json").exists()


def test_save_to_file_atomically(cli, daemon, tmp_path):
    daemon.replies[("GET", "/images/get")] = chunked(200, [b"tar-bytes-1", b"tar-bytes-2"], "application/x-tar")
    target = tmp_path / "out.tar"
    done = cli("save", "-o", str(target), "busybox", "alpine")
    assert done.returncode == 0, done.stderr
    assert target.read_bytes() == b"tar-bytes-1tar-bytes-2"
    assert daemon.find("GET", "/images/get")[0].query["names"] == ["busybox", "alpine"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.sock", "out.tar"]  # no temp file left behind


def test_load_streams_stdin_chunked(cli, daemon):
    daemon.replies[("POST", "/images/load")] = chunked(200, [b'{"stream":"Loaded image: busybox:latest\\n"}\n'])
    done = cli("load", stdin=b"x" * 200_000)
    assert (done.returncode, done.stdout) == (0, b"Loaded image: busybox:latest\n"), done.stderr
    request = daemon.find("POST", "/images/load")[0]
    assert request.headers["transfer-encoding"] == "chunked" and request.body == b"x" * 200_000


def test_images_and_rmi(cli, daemon):
    daemon.replies[("GET", "/images/json")] = (
        200,
        [{"Id": "sha256:" + "a" * 64, "RepoTags": ["busybox:latest"], "Created": 0, "Size": 4_261_000}],
    )
    daemon.replies[("DELETE", "/images/busybox")] = (
        200,
        [{"Untagged": "busybox:latest"}, {"Deleted": "sha256:" + "a" * 64}],
    )
    done = cli("images", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}")
    assert done.stdout == b"busybox:latest 4.26MB\n"
    done = cli("image", "rm", "-f", "busybox")
    assert done.stdout.decode() == f"Untagged: busybox:latest\nDeleted: sha256:{'a' * 64}\n"
    assert daemon.find("DELETE", "/images/busybox")[0].query == {"force": ["1"]}


def test_prune_without_force_asks_and_declines(cli, daemon):
    done = cli("container", "prune", stdin=b"n\n")
    assert done.returncode == 0 and "Are you sure you want to continue? [y/N]" in done.stdout.decode()
    assert not daemon.find("POST", "/containers/prune")
    daemon.replies[("POST", "/containers/prune")] = (200, {"ContainersDeleted": ["abc"], "SpaceReclaimed": 2000})
    done = cli("container", "prune", "-f")
    assert done.stdout.decode() == "Deleted Containers:\nabc\n\nTotal reclaimed space: 2kB\n"


def test_network_and_volume_verbs(cli, daemon):
    daemon.replies[("POST", "/networks/create")] = (201, {"Id": "n" * 64})
    daemon.replies[("GET", "/volumes")] = (200, {"Volumes": [{"Name": "data", "Driver": "local"}], "Warnings": []})
    done = cli("network", "create", "--subnet", "10.9.0.0/24", "--gateway", "10.9.0.1", "appnet")
    assert done.stdout.decode() == "n" * 64 + "\n"
    body = daemon.find("POST", "/networks/create")[0].body
    assert body["Name"] == "appnet" and body["IPAM"]["Config"] == [{"Subnet": "10.9.0.0/24", "Gateway": "10.9.0.1"}]
    done = cli("volume", "ls")
    assert done.stdout.decode() == "DRIVER    VOLUME NAME\nlocal     data\n"


def test_run_interactive_without_tty_sends_stdin_then_half_closes(cli, daemon):
    def cat_back(conn, request):
        conn.sendall(head(101, {"Upgrade": "tcp", "Connection": "Upgrade"}))
        received = b""
        while data := conn.recv(1024):
            received += data
        conn.sendall(encode_frame(STDOUT, received[::-1]))

    daemon.replies.update(
        {
            ("POST", "/containers/create"): (201, {"Id": CID}),
            ("POST", f"/containers/{CID}/attach"): cat_back,
            ("POST", f"/containers/{CID}/wait"): (200, {"StatusCode": 0}),
            ("POST", f"/containers/{CID}/start"): (204, ""),
        }
    )
    done = cli("run", "-i", "busybox", "cat", stdin=b"abc\n")
    assert (done.returncode, done.stdout) == (0, b"\ncba"), done.stderr
    assert daemon.find("POST", "/containers/create")[0].body["StdinOnce"] is True


def test_start_attach_uses_the_container_config(cli, daemon):
    attach, wait, start = start_gate()
    daemon.replies.update(
        {
            ("GET", "/containers/old/json"): (
                200,
                {"Id": CID, "Config": {"Tty": False, "OpenStdin": False}, "HostConfig": {"AutoRemove": False}},
            ),
            ("POST", f"/containers/{CID}/attach"): attach,
            ("POST", f"/containers/{CID}/wait"): wait,
            ("POST", f"/containers/{CID}/start"): start,
        }
    )
    done = cli("start", "-a", "old")
    assert (done.returncode, done.stdout, done.stderr) == (3, b"out line\n", b"err line\n")
    assert daemon.find("POST", "/wait")[0].query["condition"] == ["next-exit"]


def test_start_several_reports_failures(cli, daemon):
    daemon.replies[("POST", "/containers/a/start")] = (204, "")
    done = cli("start", "a", "b")
    assert done.returncode == 1 and done.stdout == b"a\n"
    assert done.stderr.decode().endswith("Error: failed to start containers: a, b\n")


def test_attach_refuses_a_stopped_container(cli, daemon):
    daemon.replies[("GET", "/containers/x/json")] = (200, {"Id": CID, "State": {"Running": False}})
    done = cli("attach", "x")
    assert done.returncode == 125 and "You cannot attach to a stopped container" in done.stderr.decode()


def test_events_default_lines_and_format(cli, daemon):
    event = {
        "Type": "container",
        "Action": "start",
        "Actor": {"ID": CID, "Attributes": {"name": "web", "image": "busybox"}},
        "time": 1700000000,
        "timeNano": 1700000000123456789,
    }
    daemon.replies[("GET", "/events")] = chunked(200, [json.dumps(event).encode() + b"\n"])
    done = cli("events", "--since", "1h", "--until", "0s", env={"TZ": "UTC"})
    assert done.stdout.decode() == f"2023-11-14T22:13:20.123456789Z container start {CID} (image=busybox, name=web)\n"
    query = daemon.find("GET", "/events")[0].query
    assert float(query["until"][0]) - float(query["since"][0]) == pytest.approx(3600, abs=5)
    done = cli("events", "--format", "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}")
    assert done.stdout == b"container start web\n"


def test_version_format_and_tag_and_port(cli, daemon):
    daemon.replies[("GET", "/version")] = (200, {"Version": "0.1.0", "ApiVersion": "1.44"})
    daemon.replies[("POST", "/images/busybox/tag")] = (201, "")
    daemon.replies[("GET", "/containers/web/json")] = (
        200,
        {"Id": CID, "NetworkSettings": {"Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}}},
    )
    assert cli("version", "--format", "{{.Server.ApiVersion}}/{{.Client.ApiVersion}}").stdout == b"1.44/1.44\n"
    assert cli("tag", "busybox", "localhost:5000/tools/bb:v1").returncode == 0
    assert daemon.find("POST", "/images/busybox/tag")[0].query == {"repo": ["localhost:5000/tools/bb"], "tag": ["v1"]}
    assert cli("port", "web").stdout == b"80/tcp -> 0.0.0.0:8080\n"
    done = cli("port", "web", "81")
    assert done.returncode == 1 and "No public port '81/tcp' published for web" in done.stderr.decode()


def test_tty_needs_a_terminal_on_stdin(cli, daemon):
    done = cli("run", "-it", "busybox", "sh")
    assert done.returncode == 1 and done.stderr == b"the input device is not a TTY\n"
    assert not daemon.requests or all(r.path.endswith("/_ping") for r in daemon.requests)


def test_missing_env_file_reads_like_go(cli, daemon):
    done = cli("run", "--env-file", "/nonexistent/env", "busybox")
    assert done.returncode == 125
    assert done.stderr == b"open /nonexistent/env: no such file or directory\n"
    assert not daemon.find("POST", "/containers/create")


def test_run_forwards_signals_to_the_container(daemon):
    import signal
    import subprocess
    import sys

    from tests.cli.conftest import SRC

    started, killed = threading.Event(), threading.Event()

    def attach(conn, request):
        conn.sendall(head(101, {"Upgrade": "tcp", "Connection": "Upgrade"}))
        killed.wait(10)
        conn.sendall(encode_frame(STDOUT, b"terminated\n"))

    def wait(conn, request):
        conn.sendall(head(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}))
        killed.wait(10)
        body = b'{"StatusCode":143}'
        conn.sendall(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))

    def start(conn, request):
        conn.sendall(encode(204, ""))
        started.set()

    def kill(conn, request):
        conn.sendall(encode(204, ""))
        killed.set()

    daemon.replies.update(
        {
            ("POST", "/containers/create"): (201, {"Id": CID}),
            ("POST", f"/containers/{CID}/attach"): attach,
            ("POST", f"/containers/{CID}/wait"): wait,
            ("POST", f"/containers/{CID}/start"): start,
            ("POST", f"/containers/{CID}/kill"): kill,
        }
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from dockyard.cli.main import main; main()",
            "-H",
            f"unix://{daemon.path}",
            "run",
            "busybox",
            "sleep",
            "100",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": SRC},
    )
    try:
        assert started.wait(10)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    assert out == b"terminated\n"
    assert daemon.find("POST", "/kill")[0].query == {"signal": ["SIGTERM"]}


def test_detach_keys_from_the_config_go_only_with_an_attached_stdin(cli, daemon, tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"detachKeys": "ctrl-x,y"}))
    for argv in (["run", "busybox", "true"], ["run", "-i", "busybox", "cat"]):
        daemon.requests.clear()
        daemon.replies.update(
            {
                ("POST", "/containers/create"): (201, {"Id": CID}),
                ("POST", f"/containers/{CID}/attach"): lambda conn, request: conn.sendall(
                    head(101, {"Upgrade": "tcp", "Connection": "Upgrade"})
                ),
                ("POST", f"/containers/{CID}/wait"): (200, {"StatusCode": 0}),
                ("POST", f"/containers/{CID}/start"): (204, ""),
            }
        )
        done = cli(*argv, env={"DOCKER_CONFIG": str(tmp_path)})
        assert done.returncode == 0, done.stderr
        query = daemon.find("POST", f"/containers/{CID}/attach")[0].query
        assert query.get("detachKeys") == (["ctrl-x,y"] if "-i" in argv else None), argv

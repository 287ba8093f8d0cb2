"""export, diff, commit, stats and cp against the scripted daemon, and stats arithmetic."""

import base64
import io
import json
import re
import tarfile

import pytest

from dockyard.cli.commands.cp import split_target
from dockyard.cli.commands.stats import DEFAULT_FORMAT, HEADERS, cpu_percent, stats_row
from dockyard.cli.tables import render
from tests.cli.recorder import chunked, head

CID = "5a" * 32
SAMPLE = {
    "id": CID,
    "name": "/web",
    "cpu_stats": {"cpu_usage": {"total_usage": 400_000_000}, "system_cpu_usage": 20_000_000_000, "online_cpus": 2},
    "precpu_stats": {"cpu_usage": {"total_usage": 200_000_000}, "system_cpu_usage": 18_000_000_000},
    "memory_stats": {"usage": 3 * 1024 * 1024, "limit": 1024**3, "stats": {"total_inactive_file": 1024 * 1024}},
    "networks": {"eth0": {"rx_bytes": 1500, "tx_bytes": 648}},
    "blkio_stats": {"io_service_bytes_recursive": [{"op": "Read", "value": 4096}, {"op": "Write", "value": 8192}]},
    "pids_stats": {"current": 3},
}


def tar_of(files: dict[str, bytes], dirs: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name in dirs:
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def stat_header(name: str, is_dir: bool) -> str:
    mode = (0o20000000000 | 0o755) if is_dir else 0o644
    return base64.b64encode(json.dumps({"name": name, "size": 0, "mode": mode}).encode()).decode()


def test_stats_arithmetic_and_table():
    assert cpu_percent(SAMPLE) == pytest.approx(20.0)
    lines = render(DEFAULT_FORMAT, [stats_row(SAMPLE, "web")], HEADERS).splitlines()
    assert re.split(r"\s{2,}", lines[0]) == [
        "CONTAINER ID",
        "NAME",
        "CPU %",
        "MEM USAGE / LIMIT",
        "MEM %",
        "NET I/O",
        "BLOCK I/O",
        "PIDS",
    ]
    assert lines[1].split() == [
        "5a5a5a5a5a5a",
        "web",
        "20.00%",
        "2MiB",
        "/",
        "1GiB",
        "0.20%",
        "1.5kB",
        "/",
        "648B",
        "4.1kB",
        "/",
        "8.19kB",
        "3",
    ]


def test_stats_no_stream_lists_running_containers(cli, daemon):
    daemon.replies[("GET", "/containers/json")] = (200, [{"Id": CID}])
    daemon.replies[("GET", f"/containers/{CID}/stats")] = (200, SAMPLE)
    done = cli("stats", "--no-stream", "--format", "{{.Name}} {{.CPUPerc}} {{.PIDs}}")
    assert (done.returncode, done.stdout) == (0, b"web 20.00% 3\n"), done.stderr
    assert daemon.find("GET", "/stats")[0].query["stream"] == ["0"]


def test_export_diff_commit(cli, daemon, tmp_path):
    daemon.replies[("GET", "/containers/web/export")] = chunked(200, [b"fs-tar"], "application/x-tar")
    daemon.replies[("GET", "/containers/web/changes")] = (
        200,
        [{"Path": "/tmp", "Kind": 0}, {"Path": "/tmp/x", "Kind": 1}, {"Path": "/etc/motd", "Kind": 2}],
    )
    daemon.replies[("POST", "/commit")] = (201, {"Id": "sha256:" + "1" * 64})
    assert cli("export", "-o", str(tmp_path / "fs.tar"), "web").returncode == 0
    assert (tmp_path / "fs.tar").read_bytes() == b"fs-tar"
    assert cli("diff", "web").stdout == b"C /tmp\nA /tmp/x\nD /etc/motd\n"
    done = cli("commit", "-m", "msg", "-c", "ENV A=1", "-c", 'CMD ["sh"]', "web", "snap:v2")
    assert done.stdout.decode() == "sha256:" + "1" * 64 + "\n"
    query = daemon.find("POST", "/commit")[0].query
    assert query == {
        "container": ["web"],
        "repo": ["snap"],
        "tag": ["v2"],
        "comment": ["msg"],
        "changes": ["ENV A=1", 'CMD ["sh"]'],
        "pause": ["1"],
    }


@pytest.mark.parametrize(
    "arg,expected",
    [
        ("web:/etc/hosts", ("web", "/etc/hosts")),
        ("/tmp/a:b", (None, "/tmp/a:b")),
        ("./x:y", (None, "./x:y")),
        ("file", (None, "file")),
        ("-", (None, "-")),
    ],
)
def test_split_target(arg, expected):
    assert split_target(arg) == expected


def archive_reply(payload: bytes, name: str, is_dir: bool):
    def reply(conn, request):
        conn.sendall(
            head(
                200,
                {
                    "Content-Type": "application/x-tar",
                    "Content-Length": str(len(payload)),
                    "X-Docker-Container-Path-Stat": stat_header(name, is_dir),
                },
            )
            + payload
        )

    return reply


def test_cp_from_container_into_a_directory_and_to_a_new_name(cli, daemon, tmp_path):
    payload = tar_of({"conf/a.txt": b"A", "conf/sub/b.txt": b"B"}, dirs=("conf", "conf/sub"))
    daemon.replies[("GET", "/containers/web/archive")] = archive_reply(payload, "conf", True)
    into = tmp_path / "into"
    into.mkdir()
    assert cli("cp", "web:/etc/conf", str(into)).returncode == 0
    assert (into / "conf" / "sub" / "b.txt").read_bytes() == b"B"
    done = cli("cp", "web:/etc/conf", str(tmp_path / "renamed"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "renamed" / "a.txt").read_bytes() == b"A"
    assert daemon.find("GET", "/archive")[0].query == {"path": ["/etc/conf"]}


def test_cp_refuses_entries_escaping_the_destination(cli, daemon, tmp_path):
    payload = tar_of({"../escape.txt": b"x"})
    daemon.replies[("GET", "/containers/web/archive")] = archive_reply(payload, "escape.txt", False)
    target = tmp_path / "t"
    target.mkdir()
    done = cli("cp", "web:/x", str(target))
    assert done.returncode == 1
    assert "error extracting the copy from web:/x" in done.stderr.decode() and "outside" in done.stderr.decode()
    assert not (tmp_path / "escape.txt").exists()


def test_cp_to_container_puts_a_tar_in_the_parent_under_the_new_name(cli, daemon, tmp_path):
    source = tmp_path / "local.txt"
    source.write_bytes(b"payload")
    daemon.replies[("HEAD", "/containers/web/archive")] = (404, {"message": "Could not find the file"})
    daemon.replies[("PUT", "/containers/web/archive")] = (200, "")
    done = cli("cp", str(source), "web:/etc/new.txt")
    assert done.returncode == 0, done.stderr
    put = daemon.find("PUT", "/archive")[0]
    assert put.query == {"path": ["/etc"], "noOverwriteDirNonDir": ["1"]}
    with tarfile.open(fileobj=io.BytesIO(put.body)) as tar:
        assert tar.getnames() == ["new.txt"] and tar.extractfile("new.txt").read() == b"payload"


def test_cp_to_existing_directory_keeps_the_name(cli, daemon, tmp_path):
    source = tmp_path / "dir"
    (source / "inner").mkdir(parents=True)
    (source / "inner" / "f").write_bytes(b"f")
    daemon.replies[("HEAD", "/containers/web/archive")] = lambda conn, request: conn.sendall(
        head(200, {"X-Docker-Container-Path-Stat": stat_header("opt", True), "Content-Length": "0"})
    )
    daemon.replies[("PUT", "/containers/web/archive")] = (200, "")
    assert cli("cp", str(source), "web:/opt").returncode == 0
    put = daemon.find("PUT", "/archive")[0]
    assert put.query["path"] == ["/opt"]
    with tarfile.open(fileobj=io.BytesIO(put.body)) as tar:
        assert sorted(tar.getnames()) == ["dir", "dir/inner", "dir/inner/f"]


def test_cp_needs_exactly_one_container(cli):
    done = cli("cp", "a", "b")
    assert done.returncode == 1 and "must specify at least one container source" in done.stderr.decode()

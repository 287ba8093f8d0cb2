"""`attach` exits with the container's code from a wait, as the docker CLI does (not an inspect
racing the daemon's record of the exit)."""

from dockyard.multiplex import STDOUT, encode_frame
from tests.cli.recorder import chunked, head

CID = "c0ffee" + "0" * 58


def test_attach_exits_with_the_code_the_wait_reports(cli, daemon):
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
        conn.sendall(encode_frame(STDOUT, b"got hello\n"))

    running = {"Id": CID, "State": {"Running": True, "ExitCode": 0}, "Config": {"Tty": False}}
    daemon.replies.update(
        {
            ("GET", "/containers/box/json"): (200, running),
            ("POST", f"/containers/{CID}/attach"): attach,
            ("POST", f"/containers/{CID}/wait"): chunked(200, [b'{"StatusCode":4,"Error":null}\n']),
        }
    )
    done = cli("attach", "box")
    assert (done.returncode, done.stdout) == (4, b"got hello\n"), done.stderr
    assert daemon.find("POST", "/wait")[0].query["condition"] == ["not-running"]

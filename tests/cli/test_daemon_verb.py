"""`dockyard daemon` (the command's daemon entry) wires flags into dockyard.daemon.run_daemon: start one on a temp data root
and socket, talk to it with the CLI, stop it with SIGTERM."""

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.cli.conftest import SRC, run_cli


@pytest.mark.root
def test_daemon_verb_serves_the_cli(tmp_path):
    sock = tmp_path / "run" / "d.sock"
    sock.parent.mkdir()
    config = tmp_path / "daemon.json"
    config.write_text('{"bridge": "none"}')  # no bridge or iptables rules on the test machine
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dockyard",
            "daemon",
            "--data-root",
            str(tmp_path / "data"),
            "-H",
            f"unix://{sock}",
            "--config-file",
            str(config),
        ],
        env={**os.environ, "PYTHONPATH": SRC},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while not sock.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sock.exists(), proc.stderr.read().decode() if proc.poll() is not None else "no socket"
        done = run_cli(["version", "--format", "{{.Server.ApiVersion}}"], str(sock))
        assert (done.returncode, done.stdout) == (0, b"1.44\n"), done.stderr
        done = run_cli(["info", "--format", "{{.DockerRootDir}}"], str(sock))
        assert done.stdout.decode().strip() == str(tmp_path / "data")
        assert run_cli(["images", "-q"], str(sock)).returncode == 0
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0

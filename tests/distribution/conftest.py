"""A real registry for tests: Debian's docker-registry (distribution 2.8) on a loopback port.

Reuse from another test folder (`from tests.distribution.conftest import start_registry`):

    handle = start_registry(tmp_path)              # anonymous
    handle = start_registry(tmp_path, auth={"htpasswd": {"realm": "r", "path": str(htpasswd_file)}})
    ... handle.address ("127.0.0.1:PORT"), handle.url ...
    handle.stop()                                  # SIGTERM then SIGKILL by PID, waits

The fixtures below (`registry`, `basic_registry`, `token_registry`) stop theirs at teardown.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import bcrypt
import pytest

REGISTRY_BIN = shutil.which("docker-registry") or "/usr/bin/docker-registry"
USER, PASSWORD = "alice", "s3cret-pass"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RegistryHandle:
    """A running docker-registry: its address, storage dir and process."""

    address: str
    storage: Path
    process: subprocess.Popen = field(repr=False)
    scheme: str = "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.address}"

    def stop(self) -> None:
        """Stop by PID: SIGTERM, then SIGKILL after 5 s."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()


def _config_yaml(storage: Path, address: str, auth: dict | None, tls: tuple[Path, Path] | None) -> str:
    config = {
        "version": 0.1,
        "log": {"level": "error", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(storage)}, "delete": {"enabled": True}},
        "http": {"addr": address, "secret": "dockyard-test-secret"},
    }
    if auth:
        config["auth"] = auth
    if tls:
        config["http"]["tls"] = {"certificate": str(tls[0]), "key": str(tls[1])}
    return json.dumps(config)  # YAML is a superset of JSON


def start_registry(
    workdir: Path, auth: dict | None = None, tls: tuple[Path, Path] | None = None, timeout: float = 15.0
) -> RegistryHandle:
    """Start docker-registry on a free loopback port with storage under workdir; wait until it answers.

    `auth` is docker-registry's `auth:` section; `tls` a (certificate, key) pair to serve HTTPS.
    """
    if not os.path.exists(REGISTRY_BIN):
        pytest.skip("docker-registry is not installed (apt-get install docker-registry)")
    workdir.mkdir(parents=True, exist_ok=True)
    storage = workdir / "storage"
    address = f"127.0.0.1:{free_port()}"
    config = workdir / "config.yml"
    config.write_text(_config_yaml(storage, address, auth, tls))
    log = open(workdir / "registry.log", "wb")
    process = subprocess.Popen([REGISTRY_BIN, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    log.close()
    handle = RegistryHandle(address, storage, process, "https" if tls else "http")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"docker-registry exited: {(workdir / 'registry.log').read_text()}")
        try:
            urllib.request.urlopen(f"{handle.url}/v2/", timeout=1, context=ssl._create_unverified_context()).close()
            return handle
        except urllib.error.HTTPError:
            return handle  # 401: up, and asking for auth
        except OSError:
            time.sleep(0.05)
    handle.stop()
    raise RuntimeError("docker-registry did not start in time")


def make_certificate(directory: Path, name: str = "registry") -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, made with openssl."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def write_htpasswd(path: Path, user: str = USER, password: str = PASSWORD) -> Path:
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
    path.write_text(f"{user}:{hashed}\n")
    return path


@pytest.fixture
def registry(tmp_path):
    handle = start_registry(tmp_path / "registry")
    yield handle
    handle.stop()


@pytest.fixture
def tls_registry(tmp_path):
    """A registry serving HTTPS with a self-signed certificate; yields (registry, certificate)."""
    cert, key = make_certificate(tmp_path / "tls")
    handle = start_registry(tmp_path / "registry", tls=(cert, key))
    yield handle, cert
    handle.stop()


@pytest.fixture
def basic_registry(tmp_path):
    htpasswd = write_htpasswd(tmp_path / "htpasswd")
    handle = start_registry(tmp_path / "registry", auth={"htpasswd": {"realm": "basic-realm", "path": str(htpasswd)}})
    yield handle
    handle.stop()


@pytest.fixture
def token_registry(tmp_path):
    """A registry behind a bearer-token server run by the test; yields (registry, token server)."""
    from .tokenserver import TokenServer

    server = TokenServer(tmp_path / "token", users={USER: PASSWORD})
    server.start()
    handle = start_registry(tmp_path / "registry", auth={"token": server.registry_auth()})
    yield handle, server
    handle.stop()
    server.stop()

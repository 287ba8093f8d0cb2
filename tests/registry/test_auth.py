"""Access control and TLS with real clients: htpasswd (made by apache's htpasswd -B), bearer tokens
from the registry's own /token endpoint, anonymous modes, and skopeo over verified TLS."""

from __future__ import annotations

import base64
import shutil
import subprocess

import pytest

from dockyard.registry.config import Config
from tests.registry.registry_support import Client, RunningRegistry, push_image, write_oci_layout

pytestmark = pytest.mark.skipif(
    not (shutil.which("htpasswd") and shutil.which("skopeo")), reason="needs htpasswd (apache2-utils) and skopeo"
)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def htpasswd_file(tmp_path):
    path = tmp_path / "htpasswd"
    entry = subprocess.run(["htpasswd", "-Bbn", "alice", "secret"], capture_output=True, text=True, check=True)
    path.write_text(entry.stdout)
    return str(path)


@pytest.fixture
def image(tmp_path):
    write_oci_layout(tmp_path / "img", "t", [("linux", "amd64")])
    return "oci:" + str(tmp_path / "img") + ":t"


def skopeo(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def start(tmp_path, **config) -> RunningRegistry:
    return RunningRegistry(tmp_path / "storage", Config(**config))


def test_basic_auth_with_htpasswd(tmp_path, htpasswd_file, image):
    running = start(tmp_path, htpasswd=htpasswd_file, anonymous="none")
    try:
        dest = f"docker://{running.host}/auth/basic:v1"
        refused = skopeo("copy", "--dest-tls-verify=false", image, dest, check=False)
        assert refused.returncode != 0 and "authentication required" in refused.stderr
        wrong = skopeo("copy", "--dest-tls-verify=false", "--dest-creds", "alice:wrong", image, dest, check=False)
        assert wrong.returncode != 0
        skopeo("copy", "--dest-tls-verify=false", "--dest-creds", "alice:secret", image, dest)
        reply = Client(running.host).request("GET", "/v2/auth/basic/tags/list")
        assert reply.status == 401 and reply.headers["www-authenticate"].startswith("Basic realm=")
        reply = Client(running.host, basic("alice", "secret")).request("GET", "/v2/auth/basic/tags/list")
        assert reply.json()["tags"] == ["v1"]
    finally:
        running.close()


def test_anonymous_read_only(tmp_path, htpasswd_file, image):
    running = start(tmp_path, htpasswd=htpasswd_file, anonymous="read-only")
    try:
        dest = f"docker://{running.host}/auth/ro:v1"
        assert skopeo("copy", "--dest-tls-verify=false", image, dest, check=False).returncode != 0
        skopeo("copy", "--dest-tls-verify=false", "--dest-creds", "alice:secret", image, dest)
        skopeo("inspect", "--tls-verify=false", dest)
        reply = Client(running.host).request("DELETE", "/v2/auth/ro/manifests/v1")
        assert reply.status == 401 and reply.codes == ["UNAUTHORIZED"]
    finally:
        running.close()


def test_anonymous_read_only_without_users_denies_writes(tmp_path):
    running = start(tmp_path, anonymous="read-only")
    try:
        reply = Client(running.host).request("POST", "/v2/auth/x/blobs/uploads/")
        assert reply.status == 403 and reply.codes == ["DENIED"]
        assert Client(running.host).request("GET", "/v2/").status == 200
    finally:
        running.close()


def test_bearer_tokens_with_scopes(tmp_path, htpasswd_file, image):
    running = start(tmp_path, htpasswd=htpasswd_file, anonymous="read-only", token=True)
    try:
        dest = f"docker://{running.host}/auth/tok:v1"
        assert skopeo("copy", "--dest-tls-verify=false", image, dest, check=False).returncode != 0
        skopeo("copy", "--dest-tls-verify=false", "--dest-creds", "alice:secret", image, dest)
        skopeo("inspect", "--tls-verify=false", dest)
        anonymous = Client(running.host)
        challenge = anonymous.request("GET", "/v2/auth/tok/tags/list")
        assert challenge.status == 401
        assert challenge.headers["www-authenticate"] == (
            f'Bearer realm="http://{running.host}/token",service="dockyard-registry",scope="repository:auth/tok:pull"'
        )
        token = anonymous.request("GET", "/token?service=dockyard-registry&scope=repository:auth/tok:pull,push")
        bearer = "Bearer " + token.json()["token"]
        assert anonymous.request("GET", "/v2/auth/tok/tags/list", headers={"Authorization": bearer}).status == 200
        push = anonymous.request("POST", "/v2/auth/tok/blobs/uploads/", headers={"Authorization": bearer})
        assert push.status == 401 and 'error="insufficient_scope"' in push.headers["www-authenticate"]
        other = anonymous.request("GET", "/v2/auth/other/tags/list", headers={"Authorization": bearer})
        assert other.status == 401
        signed = Client(running.host, basic("alice", "secret"))
        token = signed.request("GET", "/token?service=dockyard-registry&scope=repository:auth/tok:pull,push")
        writer = Client(running.host, "Bearer " + token.json()["token"])
        assert writer.request("POST", "/v2/auth/tok/blobs/uploads/").status == 202
        assert Client(running.host, basic("alice", "bad")).request("GET", "/token?scope=x:y:pull").status == 401
        form = b"grant_type=password&username=alice&password=secret&scope=repository:auth/tok:push&service=x"
        oauth = anonymous.request("POST", "/token", form, {"Content-Type": "application/x-www-form-urlencoded"})
        pusher = Client(running.host, "Bearer " + oauth.json()["access_token"])
        assert pusher.request("POST", "/v2/auth/tok/blobs/uploads/").status == 202
        wrong = anonymous.request("POST", "/token", form.replace(b"secret", b"nope"))
        assert wrong.status == 401
    finally:
        running.close()


@pytest.mark.skipif(not shutil.which("openssl"), reason="needs openssl")
def test_tls_with_verified_certificate(tmp_path, image):
    certs = tmp_path / "certs"
    certs.mkdir()
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(tmp_path / "key.pem"),
            "-out",
            str(certs / "ca.crt"),
        ],
        capture_output=True,
        check=True,
    )
    running = start(tmp_path, tls_certificate=str(certs / "ca.crt"), tls_key=str(tmp_path / "key.pem"))
    try:
        dest = f"docker://{running.host}/tls/img:v1"
        skopeo("copy", "--dest-cert-dir", str(certs), image, dest)
        out = skopeo("inspect", "--cert-dir", str(certs), "--format", "{{.Digest}}", dest).stdout.strip()
        assert out.startswith("sha256:")
        untrusted = skopeo("inspect", dest, check=False)
        assert untrusted.returncode != 0 and "certificate" in untrusted.stderr
    finally:
        running.close()


def test_token_mode_keeps_own_push_working(tmp_path, htpasswd_file):
    running = start(tmp_path, htpasswd=htpasswd_file, anonymous="none", token=True)
    try:
        token = Client(running.host, basic("alice", "secret")).request(
            "GET", "/token?scope=repository:auth/own:pull,push"
        )
        client = Client(running.host, "Bearer " + token.json()["access_token"])
        digest, _ = push_image(client, "auth/own", "v1")
        assert client.request("GET", "/v2/auth/own/manifests/v1").headers["docker-content-digest"] == digest
        assert Client(running.host).request("GET", "/token?scope=repository:auth/own:pull").status == 401
    finally:
        running.close()

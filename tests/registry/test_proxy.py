"""Pull-through cache in front of Debian's docker-registry (with htpasswd auth): pulls go through, get cached,
a tag moved upstream is followed once its TTL passed, pulls keep working once the upstream is gone, and the
cache refuses pushes."""

from __future__ import annotations

import hashlib
import shutil
import subprocess

import pytest

from dockyard.registry.config import Config
from tests.registry.registry_support import ReferenceRegistry, RunningRegistry, has_reference, write_oci_layout

pytestmark = pytest.mark.skipif(
    not (shutil.which("skopeo") and shutil.which("htpasswd") and has_reference()),
    reason="needs skopeo, htpasswd and docker-registry",
)


def skopeo(*args: str) -> str:
    result = subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def inspect_digest(ref: str) -> str:
    raw = skopeo("inspect", "--tls-verify=false", "--raw", ref)
    return "sha256:" + hashlib.sha256(raw.encode()).hexdigest()


def test_pull_through_cache(tmp_path):
    htpasswd = tmp_path / "htpasswd"
    htpasswd.write_text(
        subprocess.run(["htpasswd", "-Bbn", "bob", "pw"], capture_output=True, text=True, check=True).stdout
    )
    upstream = ReferenceRegistry(tmp_path / "upstream", f"auth: {{htpasswd: {{realm: up, path: {htpasswd}}}}}\n")
    top = write_oci_layout(tmp_path / "img", "multi", [("linux", "amd64"), ("linux", "arm64")])
    skopeo(
        "copy",
        "--all",
        "--dest-tls-verify=false",
        "--dest-creds",
        "bob:pw",
        "oci:" + str(tmp_path / "img") + ":multi",
        f"docker://{upstream.host}/library/app:1",
    )
    cache = RunningRegistry(
        tmp_path / "cache",
        Config(proxy_remote_url=f"http://{upstream.host}", proxy_username="bob", proxy_password="pw", proxy_tag_ttl=0),
    )
    try:
        skopeo(
            "copy",
            "--all",
            "--src-tls-verify=false",
            f"docker://{cache.host}/library/app:1",
            "oci:" + str(tmp_path / "first") + ":x",
        )
        moved = write_oci_layout(tmp_path / "moved", "m", [("linux", "amd64")])
        skopeo(
            "copy",
            "--dest-tls-verify=false",
            "--dest-creds",
            "bob:pw",
            "oci:" + str(tmp_path / "moved") + ":m",
            f"docker://{upstream.host}/library/app:1",
        )
        assert inspect_digest(f"docker://{cache.host}/library/app:1") == moved
        skopeo(
            "copy",
            "--all",
            "--dest-tls-verify=false",
            "--dest-creds",
            "bob:pw",
            "oci:" + str(tmp_path / "img") + ":multi",
            f"docker://{upstream.host}/library/app:1",
        )
        assert inspect_digest(f"docker://{cache.host}/library/app:1") == top
        upstream.close()
        skopeo(
            "copy",
            "--all",
            "--src-tls-verify=false",
            f"docker://{cache.host}/library/app:1",
            "oci:" + str(tmp_path / "second") + ":x",
        )
        assert inspect_digest(f"docker://{cache.host}/library/app:1") == top
        blobs = {p.name for p in (tmp_path / "img" / "blobs" / "sha256").iterdir()}
        assert {p.name for p in (tmp_path / "second" / "blobs" / "sha256").iterdir()} == blobs
        push = subprocess.run(
            [
                "skopeo",
                "copy",
                "--dest-tls-verify=false",
                "oci:" + str(tmp_path / "img") + ":multi",
                f"docker://{cache.host}/library/app:2",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert push.returncode != 0
    finally:
        cache.close()
        if upstream.process.poll() is None:
            upstream.close()

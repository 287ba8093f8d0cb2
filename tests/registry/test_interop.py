"""Real clients against dockyard's registry: skopeo in and out (OCI, Docker, multi-platform), and Debian's
docker-registry side by side on the same steps (pull from one, push to the other, compare digests)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.registry.registry_support import ReferenceRegistry, has_reference, layer_tar, push_image, write_oci_layout

pytestmark = pytest.mark.skipif(not shutil.which("skopeo"), reason="needs skopeo")
needs_reference = pytest.mark.skipif(not has_reference(), reason="needs docker-registry")


def skopeo(*args: str) -> str:
    result = subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def copy(src: str, dest: str, *flags: str) -> None:
    skopeo("copy", "--src-tls-verify=false", "--dest-tls-verify=false", *flags, src, dest)


def raw_digest(ref: str) -> str:
    return skopeo("inspect", "--tls-verify=false", "--format", "{{.Digest}}", ref).strip()


@pytest.fixture
def reference(tmp_path):
    ref = ReferenceRegistry(tmp_path / "reference")
    yield ref
    ref.close()


def test_skopeo_multiplatform_index_in_and_out(registry, tmp_path):
    top = write_oci_layout(tmp_path / "src", "multi", [("linux", "amd64"), ("linux", "arm64")])
    copy("oci:" + str(tmp_path / "src") + ":multi", f"docker://{registry.host}/interop/multi:v1", "--all")
    assert raw_digest(f"docker://{registry.host}/interop/multi:v1") == top
    copy(f"docker://{registry.host}/interop/multi:v1", "oci:" + str(tmp_path / "out") + ":back", "--all")
    index = json.loads((tmp_path / "out" / "index.json").read_text())
    assert index["manifests"][0]["digest"] == top
    original = sorted(p.name for p in (tmp_path / "src" / "blobs" / "sha256").iterdir())
    assert sorted(p.name for p in (tmp_path / "out" / "blobs" / "sha256").iterdir()) == original


def test_skopeo_docker_schema2_conversion(registry, tmp_path):
    write_oci_layout(tmp_path / "src", "one", [("linux", "amd64")])
    copy("oci:" + str(tmp_path / "src") + ":one", f"docker://{registry.host}/interop/docker:v2", "--format", "v2s2")
    raw = json.loads(skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{registry.host}/interop/docker:v2"))
    assert raw["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    copy(f"docker://{registry.host}/interop/docker:v2", f"docker://{registry.host}/interop/copied:v2")
    assert raw_digest(f"docker://{registry.host}/interop/copied:v2") == raw_digest(
        f"docker://{registry.host}/interop/docker:v2"
    )


@needs_reference
def test_side_by_side_with_docker_registry(registry, reference, tmp_path):
    """Same steps on both: push to one, copy to the other and back, digests agree everywhere."""
    top = write_oci_layout(tmp_path / "src", "multi", [("linux", "amd64"), ("linux", "arm64"), ("linux", "s390x")])
    src = "oci:" + str(tmp_path / "src") + ":multi"
    copy(src, f"docker://{reference.host}/side/img:v1", "--all")
    copy(f"docker://{reference.host}/side/img:v1", f"docker://{registry.host}/side/img:v1", "--all")
    copy(f"docker://{registry.host}/side/img:v1", f"docker://{reference.host}/side/back:v1", "--all")
    digests = {
        raw_digest(f"docker://{host}/side/{name}:v1")
        for host, name in ((reference.host, "img"), (registry.host, "img"), (reference.host, "back"))
    }
    assert digests == {top}
    tags = [
        json.loads(skopeo("list-tags", "--tls-verify=false", f"docker://{h}/side/img"))["Tags"]
        for h in (registry.host, reference.host)
    ]
    assert tags[0] == tags[1] == ["v1"]


@needs_reference
def test_own_client_push_then_reference_pull(registry, reference, client):
    """dockyard's own pushes (the test client) are pulled unchanged through skopeo into the reference."""
    layers = [layer_tar({"a.txt": b"a" * 1000}), layer_tar({"b.txt": b"b" * 1000})]
    digest, _ = push_image(client, "own/img", "latest", layers, "application/vnd.docker.distribution.manifest.v2+json")
    copy(f"docker://{registry.host}/own/img:latest", f"docker://{reference.host}/own/img:latest", "--preserve-digests")
    assert raw_digest(f"docker://{reference.host}/own/img:latest") == digest

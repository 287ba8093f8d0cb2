"""dockyard's own registry client (dockyard.distribution) pulls from and pushes to dockyard's registry and
Debian's docker-registry on the same steps; the manifest digest survives every hop."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from dockyard.content.local import LocalContentStore
from dockyard.distribution.client import Registries
from dockyard.distribution.pull import pull
from dockyard.distribution.pusher import Pusher
from dockyard.oci.reference import parse_reference
from dockyard.paths import DataRoot
from tests.registry.registry_support import ReferenceRegistry, has_reference, write_oci_layout

pytestmark = pytest.mark.skipif(
    not (shutil.which("skopeo") and has_reference()), reason="needs skopeo and docker-registry"
)


class NoCredentials:
    def get(self, registry: str) -> None:
        return None


def store_at(path) -> LocalContentStore:
    root = DataRoot(path)
    root.create()
    return LocalContentStore(root)


def digest_of(ref: str) -> str:
    result = subprocess.run(
        ["skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}", ref],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_dockyard_pull_and_push_between_both_registries(registry, tmp_path):
    reference = ReferenceRegistry(tmp_path / "reference")
    try:
        write_oci_layout(tmp_path / "img", "one", [("linux", "amd64")])
        subprocess.run(
            [
                "skopeo",
                "copy",
                "--dest-tls-verify=false",
                "--format",
                "v2s2",
                "oci:" + str(tmp_path / "img") + ":one",
                f"docker://{reference.host}/src/img:v1",
            ],
            capture_output=True,
            check=True,
            timeout=60,
        )
        original = digest_of(f"docker://{reference.host}/src/img:v1")
        registries = Registries(credentials=NoCredentials())
        hops = [
            (f"{reference.host}/src/img:v1", f"{registry.host}/dockyard/img:v1"),
            (f"{registry.host}/dockyard/img:v1", f"{reference.host}/back/img:v1"),
        ]
        for i, (source, target) in enumerate(hops):
            store = store_at(tmp_path / f"store{i}")
            resolved = pull(registries, parse_reference(source), store)
            pushed = Pusher(registries).push(parse_reference(target), resolved.manifest, store)
            assert pushed.digest == original
            assert digest_of(f"docker://{target}") == original
    finally:
        reference.close()

"""Repositories over the shared blob store: blob links, manifests, tags and referrers.

Every method that makes a blob referenced (linking, committing an upload, putting a manifest)
runs under the shared GC barrier and touches the blobs it references, so a concurrent GC
sweep either saw the reference or sees a blob newer than its mark (see gc.py).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.manifest import Index, Manifest
from dockyard.registry import errcodes
from dockyard.registry.errcodes import RegistryError
from dockyard.registry.layout import Layout
from dockyard.registry.manifests import blobs, children


@dataclass(frozen=True, slots=True)
class StoredManifest:
    """A manifest revision as found in a repository."""

    digest: Digest
    media_type: str
    path: Path
    size: int


class Storage:
    """The registry's content: blobs shared across repositories, and each repository's links."""

    def __init__(self, root: Path, fsync: bool = False) -> None:
        self.layout = Layout(Path(root))
        self.layout.create()
        self.fsync = fsync

    # blobs

    def blob_size(self, digest: Digest) -> int | None:
        """The size of a stored blob, or None when it is not in the store."""
        try:
            return os.stat(self.layout.blob(digest)).st_size
        except FileNotFoundError:
            return None

    def repo_blob(self, name: str, digest: Digest) -> tuple[Path, int]:
        """Where a blob linked into `name` lives and its size. Raises BLOB_UNKNOWN."""
        size = self.blob_size(digest) if self.layout.layer_link(name, digest).exists() else None
        if size is None:
            raise RegistryError(errcodes.BLOB_UNKNOWN, {"digest": str(digest)})
        return self.layout.blob(digest), size

    def _link(self, name: str, digest: Digest) -> None:
        link = self.layout.layer_link(name, digest)
        if not link.exists():
            self.layout.write_atomic(link, b"")

    def mount(self, name: str, digest: Digest, source: str | None) -> bool:
        """Link a blob already in the store into `name` (from `source`, or from anywhere when None)."""
        with self.layout.locked(exclusive=False):
            if source is not None and not self.layout.layer_link(source, digest).exists():
                return False
            try:
                os.utime(self.layout.blob(digest))
            except FileNotFoundError:
                return False
            self._link(name, digest)
            return True

    def commit_blob(self, name: str, data_path: Path, digest: Digest) -> None:
        """Publish a verified upload file as `digest` and link it into `name`."""
        with self.layout.locked(exclusive=False):
            target = self.layout.blob(digest)
            if target.exists():
                os.utime(target)
                data_path.unlink(missing_ok=True)
            else:
                if self.fsync:
                    with open(data_path, "rb+") as f:
                        os.fsync(f.fileno())
                os.replace(data_path, target)
            self._link(name, digest)

    def delete_blob(self, name: str, digest: Digest) -> None:
        """Unlink a blob from `name`; the bytes go when GC finds them unreferenced. Raises BLOB_UNKNOWN."""
        link = self.layout.layer_link(name, digest)
        if not link.exists():
            raise RegistryError(errcodes.BLOB_UNKNOWN, {"digest": str(digest)})
        link.unlink(missing_ok=True)

    # manifests

    def _check_references(self, name: str, manifest: Manifest | Index) -> None:
        for blob in blobs(manifest):
            if blob.urls:
                continue
            if not self.layout.layer_link(name, blob.digest).exists():
                raise RegistryError(errcodes.MANIFEST_BLOB_UNKNOWN, {"digest": str(blob.digest)})
            try:
                os.utime(self.layout.blob(blob.digest))
            except FileNotFoundError:
                raise RegistryError(errcodes.MANIFEST_BLOB_UNKNOWN, {"digest": str(blob.digest)}) from None
        for child in children(manifest):
            if not self.layout.manifest_link(name, child.digest).exists():
                raise RegistryError(errcodes.MANIFEST_BLOB_UNKNOWN, {"digest": str(child.digest)})
            os.utime(self.layout.blob(child.digest))

    def put_manifest(
        self,
        name: str,
        data: bytes,
        manifest: Manifest,
        digest: Digest,
        tag: str | None,
        verify_references: bool = True,
    ) -> None:
        """Store a validated manifest as a revision of `name`, tag it, and index its subject.

        `verify_references` False is for the pull-through cache, which fetches blobs on demand.

        Raises:
            RegistryError: MANIFEST_BLOB_UNKNOWN when a referenced blob or child manifest is not in `name`.
        """
        with self.layout.locked(exclusive=False):
            if verify_references:
                self._check_references(name, manifest)
            target = self.layout.blob(digest)
            if target.exists():
                os.utime(target)
            else:
                self.layout.write_atomic(target, data)
            self._write_once(self.layout.manifest_link(name, digest), manifest.media_type.encode())
            if manifest.subject is not None:
                entry = manifest.referrer().to_json()
                path = self.layout.referrers(name, manifest.subject.digest) / digest.hex
                self._write_once(path, json.dumps(entry).encode())
            if tag is not None:
                self._write_once(self.layout.tag(name, tag), str(digest).encode())
                os.utime(self.layout.tag(name, tag))  # the tag's age is how long since it was confirmed

    def _write_once(self, path: Path, data: bytes) -> None:
        """Write `data` atomically unless `path` already holds exactly it (renames over files are costly)."""
        try:
            if path.read_bytes() == data:
                return
        except FileNotFoundError:
            pass
        self.layout.write_atomic(path, data)

    def resolve(self, name: str, reference: Digest | str) -> Digest:
        """The digest a tag points at, or the digest itself. Raises MANIFEST_UNKNOWN."""
        if isinstance(reference, Digest):
            return reference
        try:
            return Digest(self.layout.tag(name, reference).read_text())
        except FileNotFoundError:
            raise RegistryError(errcodes.MANIFEST_UNKNOWN, {"tag": reference}) from None

    def tag_age(self, name: str, tag: str) -> float:
        """Seconds since `tag` was last written or confirmed. Raises MANIFEST_UNKNOWN."""
        try:
            return time.time() - os.stat(self.layout.tag(name, tag)).st_mtime
        except FileNotFoundError:
            raise RegistryError(errcodes.MANIFEST_UNKNOWN, {"tag": tag}) from None

    def get_manifest(self, name: str, reference: Digest | str) -> StoredManifest:
        """The manifest revision a tag or digest names in `name`. Raises MANIFEST_UNKNOWN."""
        digest = self.resolve(name, reference)
        try:
            media_type = self.layout.manifest_link(name, digest).read_text()
            size = os.stat(self.layout.blob(digest)).st_size
        except FileNotFoundError:
            raise RegistryError(errcodes.MANIFEST_UNKNOWN, {"digest": str(digest)}) from None
        return StoredManifest(digest, media_type, self.layout.blob(digest), size)

    def delete_manifest(self, name: str, digest: Digest) -> None:
        """Remove a revision, every tag pointing at it and its referrer entry. Raises MANIFEST_UNKNOWN."""
        link = self.layout.manifest_link(name, digest)
        if not link.exists():
            raise RegistryError(errcodes.MANIFEST_UNKNOWN, {"digest": str(digest)})
        for tag in self._tag_names(name):
            path = self.layout.tag(name, tag)
            if path.read_text() == digest:
                path.unlink(missing_ok=True)
        for entry in (self.layout.repository(name) / "_referrers").glob(f"*/{digest.hex}"):
            entry.unlink(missing_ok=True)
        link.unlink(missing_ok=True)

    def delete_tag(self, name: str, tag: str) -> None:
        """Remove one tag, keeping the revision. Raises MANIFEST_UNKNOWN."""
        path = self.layout.tag(name, tag)
        if not path.exists():
            raise RegistryError(errcodes.MANIFEST_UNKNOWN, {"tag": tag})
        path.unlink()

    # listings

    def _tag_names(self, name: str) -> list[str]:
        try:
            return sorted(os.listdir(self.layout.repository(name) / "_tags"))
        except FileNotFoundError:
            return []

    def tags(self, name: str) -> list[str]:
        """The sorted tags of `name`. Raises NAME_UNKNOWN for a repository that does not exist."""
        if not self.layout.repository(name).is_dir():
            raise RegistryError(errcodes.NAME_UNKNOWN, {"name": name})
        return self._tag_names(name)

    def repositories(self) -> list[str]:
        """Every repository name, sorted."""
        found = []
        base = self.layout.repositories
        for dirpath, dirnames, _ in os.walk(base):
            if any(d.startswith("_") for d in dirnames):
                found.append(os.path.relpath(dirpath, base))
            dirnames[:] = [d for d in dirnames if not d.startswith("_")]
        return sorted(found)

    def referrers(self, name: str, subject: Digest, artifact_type: str | None) -> list[Descriptor]:
        """Descriptors of the manifests in `name` whose subject is `subject`, optionally filtered."""
        out = []
        directory = self.layout.referrers(name, subject)
        for entry in sorted(directory.glob("*")) if directory.is_dir() else ():
            if not self.layout.manifest_link(name, Digest.from_hex(entry.name)).exists():
                continue
            descriptor = Descriptor.from_json(json.loads(entry.read_bytes()))
            if artifact_type is None or descriptor.artifact_type == artifact_type:
                out.append(descriptor)
        return out

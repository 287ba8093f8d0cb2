"""Garbage collection of unreferenced blobs and abandoned uploads, safe while pushes go on.

Mark and sweep with a barrier and a grace period (docs/decisions/0005-registry-server.md):
1. Barrier: take the GC lock exclusively for an instant and note the time T0. Every writer
   (blob commit, mount, manifest put) holds the lock shared while it checks a blob, touches
   it (mtime = now) and writes its link, so each writer finished before T0 or touches after it.
2. Mark: walk every repository's manifest revisions; a manifest marks itself and every blob
   it references (config, layers, child manifests).
3. Sweep: for each unmarked blob, take the lock exclusively, re-stat it, and delete it only if
   its mtime is older than T0 minus the grace period. A push that referenced the blob after T0
   touched it, and layers uploaded for a manifest not yet pushed are younger than the grace.
Uploads untouched for longer than the upload grace are removed; layer links whose blob is gone
are pruned under the same exclusive lock.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from dockyard.errors import DockyardError, InvalidArgument
from dockyard.oci.digest import Digest
from dockyard.registry.layout import Layout
from dockyard.registry.manifests import blobs, children, parse_manifest
from dockyard.registry.storage import Storage

DEFAULT_GRACE = 3600.0
DEFAULT_UPLOAD_GRACE = 24 * 3600.0
CLOCK_SLACK = 2.0  # file mtimes come from a coarse kernel clock that may lag time.time()


@dataclass(slots=True)
class GCReport:
    """What a GC run marked and removed (or would remove, in a dry run)."""

    marked: int = 0
    deleted_blobs: list[Digest] = field(default_factory=list)
    kept_young: int = 0
    deleted_uploads: list[str] = field(default_factory=list)
    freed_bytes: int = 0


def _revisions(layout: Layout) -> list[tuple[str, Digest]]:
    found = []
    for dirpath, dirnames, filenames in os.walk(layout.repositories):
        if dirpath.endswith("/_manifests/sha256"):
            name = os.path.relpath(dirpath, layout.repositories).rsplit("/_manifests", 1)[0]
            found.extend((name, Digest.from_hex(f)) for f in filenames)
            dirnames[:] = []
        elif os.path.basename(dirpath) in ("_layers", "_tags", "_referrers"):
            dirnames[:] = []
    return found


def mark(layout: Layout) -> set[str]:
    """The hex digests of every blob some manifest revision needs (the manifests included)."""
    marked: set[str] = set()
    for name, digest in _revisions(layout):
        try:
            data = layout.blob(digest).read_bytes()
            media_type = layout.manifest_link(name, digest).read_text()
        except FileNotFoundError:
            continue
        marked.add(digest.hex)
        try:
            manifest = parse_manifest(data, media_type)
        except DockyardError:
            continue
        marked.update(d.digest.hex for d in blobs(manifest) + children(manifest))
    return marked


def _barrier(layout: Layout) -> float:
    with layout.locked(exclusive=True):
        return time.time()


def _sweep_blob(layout: Layout, hexdigest: str, cutoff: float, dry_run: bool) -> int | None:
    """Delete one unmarked blob if it is older than `cutoff`; its size, or None when kept."""
    path = layout.blobs / hexdigest
    with layout.locked(exclusive=True):
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            return None
        if stat.st_mtime >= cutoff:
            return None
        if not dry_run:
            path.unlink()
        return stat.st_size


def _prune_links(layout: Layout) -> None:
    """Remove layer links whose blob is gone; the re-check under the lock keeps a link a writer just revived."""
    dangling = [
        link for link in layout.repositories.glob("**/_layers/sha256/*") if not (layout.blobs / link.name).exists()
    ]
    for link in dangling:
        with layout.locked(exclusive=True):
            if not (layout.blobs / link.name).exists():
                link.unlink(missing_ok=True)


def _sweep_uploads(layout: Layout, cutoff: float, dry_run: bool) -> list[str]:
    removed = []
    for directory in sorted(layout.uploads.iterdir()):
        try:
            mtime = os.stat(directory / "data").st_mtime
        except FileNotFoundError:
            continue  # finished, cancelled, or still being created: not abandoned
        if mtime < cutoff:
            removed.append(directory.name)
            if not dry_run:
                shutil.rmtree(directory, ignore_errors=True)
    return removed


def gc(
    storage: Path | str, dry_run: bool = False, grace: float = DEFAULT_GRACE, upload_grace: float = DEFAULT_UPLOAD_GRACE
) -> GCReport:
    """Remove blobs no manifest references and uploads abandoned for longer than `upload_grace`."""
    if not (Path(storage) / "blobs").is_dir():
        raise InvalidArgument(f"no registry storage at {storage}")
    layout = Storage(Path(storage)).layout
    t0 = _barrier(layout)
    marked = mark(layout)
    report = GCReport(marked=len(marked))
    for hexdigest in sorted(os.listdir(layout.blobs)):
        if hexdigest in marked:
            continue
        freed = _sweep_blob(layout, hexdigest, t0 - grace - CLOCK_SLACK, dry_run)
        if freed is None:
            report.kept_young += 1
        else:
            report.deleted_blobs.append(Digest.from_hex(hexdigest))
            report.freed_bytes += freed
    if not dry_run:
        _prune_links(layout)
    report.deleted_uploads = _sweep_uploads(layout, time.time() - upload_grace, dry_run)
    return report


def report_json(report: GCReport) -> str:
    """The report as one JSON document, for `dockyard registry gc`."""
    return json.dumps(
        {
            "marked": report.marked,
            "deleted_blobs": [str(d) for d in report.deleted_blobs],
            "kept_young": report.kept_young,
            "deleted_uploads": report.deleted_uploads,
            "freed_bytes": report.freed_bytes,
        },
        indent=2,
    )

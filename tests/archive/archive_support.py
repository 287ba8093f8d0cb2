"""Build test tars with the stdlib tarfile, an oracle independent of dockyard's writer."""

from __future__ import annotations

import io
import tarfile


def build_tar(entries: list[dict], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    """A tar of entries: dicts of TarInfo attributes plus optional `data` (bytes)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as tar:
        for spec in entries:
            spec = dict(spec)
            data = spec.pop("data", b"")
            info = tarfile.TarInfo(spec.pop("name"))
            info.mtime = spec.pop("mtime", 1_600_000_000)
            for key, value in spec.items():
                setattr(info, key, value)
            if info.type in (tarfile.REGTYPE, tarfile.AREGTYPE):
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data else None)
    return out.getvalue()

"""Descriptors: what a blob is, how big, its digest, and (in an index) its platform."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dockyard.errors import InvalidArgument
from dockyard.oci.digest import Digest
from dockyard.oci.platform import Platform


@dataclass(frozen=True, slots=True)
class Descriptor:
    """Points at one blob: what it is, how big, and its digest."""

    media_type: str
    digest: Digest
    size: int
    annotations: Mapping[str, str] = field(default_factory=dict)
    platform: Platform | None = None
    urls: tuple[str, ...] = ()
    artifact_type: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Descriptor:
        """Raises InvalidArgument for a descriptor without a digest, size or media type."""
        try:
            size = data["size"]
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                raise InvalidArgument(f"invalid descriptor size: {size!r}")
            platform = data.get("platform")
            return cls(
                media_type=str(data["mediaType"]),
                digest=Digest(str(data["digest"])),
                size=size,
                annotations=dict(data.get("annotations") or {}),
                platform=Platform.from_json(platform) if platform else None,
                urls=tuple(data.get("urls") or ()),
                artifact_type=str(data.get("artifactType", "")),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise InvalidArgument(f"invalid descriptor: missing or malformed {exc}") from None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": str(self.digest), "size": self.size}
        if self.urls:
            out["urls"] = list(self.urls)
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        if self.platform is not None:
            out["platform"] = self.platform.to_json()
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        return out

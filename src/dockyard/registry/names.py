"""Repository names, tags and references in registry URLs, with the spec's error codes (pure).

The grammar is oci.reference's; this module only turns a mismatch into NAME_INVALID,
MANIFEST_INVALID or MANIFEST_UNKNOWN as the distribution spec says.
"""

from __future__ import annotations

from dockyard.errors import InvalidArgument
from dockyard.oci.digest import Digest
from dockyard.oci.reference import NAME_MAX, is_path, is_tag
from dockyard.registry import errcodes
from dockyard.registry.errcodes import RegistryError


def check_name(name: str) -> str:
    """Return `name` if it is a valid repository name, else raise NAME_INVALID."""
    if not is_path(name):
        raise RegistryError(errcodes.NAME_INVALID, {"name": name[:NAME_MAX]})
    return name


def check_tag(tag: str) -> str:
    """Return `tag` if valid, else raise MANIFEST_INVALID (distribution's answer to a bad tag)."""
    if not is_tag(tag):
        raise RegistryError(errcodes.MANIFEST_INVALID, {"tag": tag[:128]}, "invalid tag")
    return tag


def parse_digest(value: str, code: errcodes.ErrorCode = errcodes.DIGEST_INVALID) -> Digest:
    """A validated digest, or the given spec error (DIGEST_INVALID unless told)."""
    try:
        return Digest(value)
    except InvalidArgument:
        raise RegistryError(code, {"digest": value[:100]}, "invalid digest") from None


def parse_reference(reference: str) -> Digest | str:
    """A manifest reference: a Digest when it has a colon, else a checked tag."""
    if ":" in reference:
        return parse_digest(reference, errcodes.MANIFEST_UNKNOWN)
    if not is_tag(reference):
        raise RegistryError(errcodes.MANIFEST_UNKNOWN, {"tag": reference[:128]})
    return reference

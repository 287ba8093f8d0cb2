"""Repository names, tags and references as the distribution spec defines them (pure)."""

from __future__ import annotations

import re

from dockyard.errors import InvalidArgument
from dockyard.oci.digest import Digest
from dockyard.registry import errcodes
from dockyard.registry.errcodes import RegistryError

_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_NAME = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$")
MAX_NAME_LENGTH = 255


def check_name(name: str) -> str:
    """Return `name` if it is a valid repository name, else raise NAME_INVALID."""
    if len(name) > MAX_NAME_LENGTH or not _NAME.match(name):
        raise RegistryError(errcodes.NAME_INVALID, {"name": name[:MAX_NAME_LENGTH]})
    return name


def is_tag(reference: str) -> bool:
    """Whether `reference` is a syntactically valid tag."""
    return bool(_TAG.match(reference))


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

"""Image references, normalised exactly as Docker does (distribution/reference).

    busybox                      -> docker.io/library/busybox:latest   familiar: busybox:latest
    localhost:5000/a/b:t         -> localhost:5000/a/b:t
    x@sha256:<hex>               -> docker.io/library/x@sha256:<hex>

Grammar (distribution/reference/regexp.go):
    reference  := name [ ":" tag ] [ "@" digest ]
    name       := [domain "/"] path-component ["/" path-component]*
    domain     := host [":" port]      host: dot-separated alphanumeric-and-dash labels, or [IPv6]
    path-comp  := [a-z0-9]+ ((\\.|_|__|-+)[a-z0-9]+)*
    tag        := [\\w][\\w.-]{0,127}
The first component is a domain only when it holds a "." or ":", is "localhost", or has an
upper-case letter; otherwise the domain is docker.io, and a one-component path gets "library/".
"""

from __future__ import annotations

import re
from typing import NamedTuple

from dockyard.errors import InvalidArgument
from dockyard.oci.digest import Digest

DEFAULT_DOMAIN = "docker.io"
LEGACY_DOMAIN = "index.docker.io"
OFFICIAL_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_MAX = 255

_DOMAIN_LABEL = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_NAME = rf"(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"  # Go's \w: ASCII only
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
# patterns, compiled (and cached by re) on first use: the CLI needs only one or two of them
_REFERENCE = rf"({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?"
_PATH = rf"{_COMPONENT}(?:/{_COMPONENT})*"
_HEX64 = r"[a-f0-9]{64}"


class Reference(NamedTuple):
    """A fully qualified image reference; `tag` and `digest` are "" / None when absent.

    A NamedTuple rather than a dataclass: the CLI parses references, and dataclasses would
    cost it ~10 ms of start-up.
    """

    domain: str
    path: str
    tag: str = ""
    digest: Digest | None = None

    @property
    def name(self) -> str:
        """`docker.io/library/busybox`: the repository with its domain."""
        return f"{self.domain}/{self.path}"

    def __str__(self) -> str:
        return self.name + self._suffix()

    def _suffix(self) -> str:
        return (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    def familiar_name(self) -> str:
        """The repository as docker prints it: `busybox`, `user/app`, `localhost:5000/a`."""
        if self.domain != DEFAULT_DOMAIN:
            return self.name
        short = self.path.removeprefix(OFFICIAL_PREFIX)
        return self.path if "/" in short else short

    def familiar(self) -> str:
        """The reference as docker prints it: `busybox:latest`."""
        return self.familiar_name() + self._suffix()

    def with_tag(self, tag: str) -> Reference:
        if not is_tag(tag):
            raise InvalidArgument("invalid reference format")
        return Reference(self.domain, self.path, tag, None)

    def with_digest(self, digest: Digest) -> Reference:
        return Reference(self.domain, self.path, "", Digest(digest))

    @property
    def object(self) -> str:
        """What to ask the registry for: the digest when known, else the tag."""
        return str(self.digest) if self.digest else self.tag or DEFAULT_TAG


def is_tag(text: str) -> bool:
    """Whether `text` is a valid tag."""
    return re.fullmatch(_TAG, text) is not None


def is_path(text: str) -> bool:
    """Whether `text` is a repository path without a domain (`library/busybox`), at most NAME_MAX long."""
    return len(text) <= NAME_MAX and re.fullmatch(_PATH, text) is not None


def split_domain(name: str) -> tuple[str, str]:
    """Split a repository name into domain and path, as docker's splitDockerDomain."""
    first, slash, rest = name.partition("/")
    if not slash or (not any(c in first for c in ".:") and first != "localhost" and first.lower() == first):
        domain, path = DEFAULT_DOMAIN, name
    else:
        domain, path = first, rest
    if domain == LEGACY_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in path:
        path = OFFICIAL_PREFIX + path
    return domain, path


def parse_reference(text: str, default_tag: bool = True) -> Reference:
    """Parse a familiar or full reference, adding `:latest` when neither tag nor digest is given.

    Raises:
        InvalidArgument: with docker's message (`invalid reference format`, `...must be lowercase`).
    """
    if re.fullmatch(_HEX64, text):
        raise InvalidArgument(f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings")
    name_part, at, digest_part = text.partition("@")
    colon = name_part.rfind(":")
    if colon > name_part.rfind("/"):
        name_part, tag_part = name_part[:colon], name_part[colon:]
    else:
        tag_part = ""
    domain, path = split_domain(name_part)
    if path.lower() != path:
        raise InvalidArgument(f"invalid reference format: repository name ({path}) must be lowercase")
    return _parse_full(f"{domain}/{path}{tag_part}{at}{digest_part}", default_tag)


def _parse_full(text: str, default_tag: bool) -> Reference:
    """Parse a reference that already carries its domain."""
    match = re.fullmatch(_REFERENCE, text)
    if match is None:
        raise InvalidArgument("invalid reference format")
    name, tag, digest = match.group(1), match.group(2) or "", match.group(3)
    if len(name) > NAME_MAX:
        raise InvalidArgument(f"invalid reference format: repository name must not be more than {NAME_MAX} characters")
    domain, _, path = name.partition("/")
    if digest is not None:
        if not digest.startswith("sha256:"):
            raise InvalidArgument(f"unsupported digest algorithm: {digest.partition(':')[0]}")
        try:
            parsed = Digest(digest)
        except InvalidArgument:
            raise InvalidArgument("invalid reference format") from None
        return Reference(domain, path, tag, parsed)
    return Reference(domain, path, tag or (DEFAULT_TAG if default_tag else ""), None)

"""Content digests (`sha256:<64 hex>`), the names of everything content-addressed."""

from __future__ import annotations

import re

from dockyard.errors import InvalidArgument

_SHA256 = re.compile(r"^sha256:[a-f0-9]{64}$")


class Digest(str):
    """A validated `algorithm:hex` string; only sha256 is accepted."""

    __slots__ = ()

    def __new__(cls, value: str) -> Digest:
        if not _SHA256.match(value):
            raise InvalidArgument(f"invalid digest: {value!r}")
        return super().__new__(cls, value)

    @property
    def algorithm(self) -> str:
        return "sha256"

    @property
    def hex(self) -> str:
        return self[7:]

    @property
    def short(self) -> str:
        """The 12-hex form docker prints in tables."""
        return self[7:19]

    @classmethod
    def of(cls, data: bytes) -> Digest:
        import hashlib  # here, not at the top: the CLI validates digests without hashing (~6 ms)

        return cls("sha256:" + hashlib.sha256(data).hexdigest())

    @classmethod
    def from_hex(cls, hexdigest: str) -> Digest:
        return cls("sha256:" + hexdigest)


def chain_id(diff_ids: list[Digest]) -> Digest:
    """The OCI ChainID of a stack of layers: ChainID(n) = sha256(ChainID(n-1) + " " + DiffID(n))."""
    if not diff_ids:
        raise InvalidArgument("chain_id of no layers")
    current = diff_ids[0]
    for diff_id in diff_ids[1:]:
        current = Digest.of(f"{current} {diff_id}".encode())
    return Digest(current)

"""Detach keys: Docker's `ctrl-p,ctrl-q` syntax and the scanner that spots them in stdin (pure).

Both ends use it: the daemon ends an attach (and leaves the container running) when a TTY
attach's stdin carries the sequence, and the CLI stops forwarding at the same point. A
partial match is held back until the next byte decides whether it was the sequence.
"""

from __future__ import annotations

from dockyard.errors import InvalidArgument

DEFAULT = b"\x10\x11"  # ctrl-p, ctrl-q
_CTRL_SPECIAL = {"@": 0, "[": 27, "\\": 28, "]": 29, "^": 30, "_": 31}


def parse(spec: str | None) -> bytes:
    """'ctrl-p,ctrl-q' -> b'\\x10\\x11'; empty or None gives the default.

    Raises InvalidArgument with moby's wording for an unknown key.
    """
    if not spec:
        return DEFAULT
    keys = bytearray()
    for key in spec.split(","):
        key = key.strip().lower()
        if key.startswith("ctrl-") and len(key) == 6 and (key[5].isalpha() or key[5] in _CTRL_SPECIAL):
            keys.append(ord(key[5]) - ord("a") + 1 if key[5].isalpha() else _CTRL_SPECIAL[key[5]])
        elif len(key) == 1:
            keys.append(ord(key))
        else:
            raise InvalidArgument(f"Unknown character: '{key}'")
    return bytes(keys)


class Scanner:
    """Feed stdin through `feed`; it returns the bytes to forward and whether to detach."""

    def __init__(self, keys: bytes) -> None:
        self.keys, self.matched = keys, 0

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        out = bytearray()
        for byte in data:
            if byte == self.keys[self.matched]:
                self.matched += 1
                if self.matched == len(self.keys):
                    self.matched = 0
                    return bytes(out), True
                continue
            out += self.keys[: self.matched]
            self.matched = 0
            if byte == self.keys[0]:
                self.matched = 1
                if len(self.keys) == 1:
                    return bytes(out), True
            else:
                out.append(byte)
        return bytes(out), False

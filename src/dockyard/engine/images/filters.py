"""Docker's `GET /images/json` filters as pure rules (moby's daemon/images/images.go).

    dangling=true|false      untagged images only / tagged ones only
    before=<image>, since=<image>, until=<time or duration>   created before / after
    label=k[=v]              every one must hold
    reference=busy*:1.*      shell patterns on the familiar reference, as Go's path.Match
                             (`*` stops at `/`); a tag also matches on its name alone

`compile_filters` checks the values (Docker's 400s) and resolves before/since through a
lookup; `ImageFilter.keeps` decides on an image's time and labels and `ImageFilter.refs`
keeps the references a reference filter names.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from dockyard.engine import prune
from dockyard.engine.containers.rules import labels_match
from dockyard.engine.filtering import boolean
from dockyard.errors import InvalidArgument


@dataclass
class ImageFilter:
    filters: dict[str, list[str]]
    dangling: bool | None = None
    after: float | None = None  # created strictly after (since)
    before: float | None = None  # created strictly before (before, until)
    patterns: list[re.Pattern] = field(default_factory=list)

    def keeps(self, created: float, labels: dict) -> bool:
        """Whether the image's creation time and labels pass."""
        if self.after is not None and not created > self.after:
            return False
        if self.before is not None and not created < self.before:
            return False
        return labels_match(labels, self.filters.get("label", []))

    def refs(self, names: list[str]) -> list[str]:
        """The familiar references that the reference filter keeps (all without one)."""
        if "reference" not in self.filters:
            return names
        return [n for n in names if any(p.fullmatch(n) or p.fullmatch(_name_only(n)) for p in self.patterns)]

    def shown(self, tags: list[str], digests: list[str]) -> bool:
        """dockerd's rule: without references an image is dangling; dangling=true lists untagged ones."""
        if not tags and not digests:
            return self.dangling is not False and "reference" not in self.filters
        return not (self.dangling and tags)


def compile_filters(filters: dict[str, list[str]], created_of: Callable[[str], float]) -> ImageFilter:
    """Check the values as dockerd does. Raises InvalidArgument, NoSuchImage (before/since)."""
    result = ImageFilter(filters, patterns=[path_pattern(p) for p in filters.get("reference", [])])
    if "dangling" in filters:
        result.dangling = boolean("dangling", filters["dangling"])
    bounds = [created_of(v) for v in filters.get("before", [])]
    bounds += [prune.timestamp(v, time.time()) for v in filters.get("until", [])]
    result.before = min(bounds, default=None)
    result.after = max((created_of(v) for v in filters.get("since", [])), default=None)
    return result


def _name_only(reference: str) -> str:
    name = reference.partition("@")[0]
    head, sep, tail = name.rpartition(":")
    return head if sep and "/" not in tail else name


def path_pattern(pattern: str) -> re.Pattern:
    """Go's path.Match pattern as a regular expression. Raises InvalidArgument when malformed."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "\\":
            if i + 1 == len(pattern):
                raise InvalidArgument("syntax error in pattern")
            i += 1
            out.append(re.escape(pattern[i]))
        elif char == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                raise InvalidArgument("syntax error in pattern")
            body = pattern[i + 1 : end]
            negate = body.startswith("^")
            body = body[1:] if negate else body
            out.append("[" + ("^/" if negate else "") + body + "]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    try:
        return re.compile("".join(out), re.DOTALL)
    except re.error:
        raise InvalidArgument("syntax error in pattern") from None

"""`.dockerignore` patterns, as docker's patternmatcher reads them (pure).

Each line is a Go filepath.Match pattern relative to the context root, with `**` for any
number of directories and a leading `!` for an exception; the last matching line wins, and
a pattern that matches a directory also matches everything under it.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Pattern:
    """One cleaned pattern, compiled."""

    text: str
    exclusion: bool
    regex: re.Pattern


def _translate(pattern: str) -> re.Pattern:
    """Go filepath.Match syntax plus `**`, as a regex over '/'-separated paths."""
    out, index = [], 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**", index):
            index += 2
            if pattern.startswith("/", index):
                index += 1
                out.append("(?:.*/)?")
            else:
                out.append(".*")
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", index + 1)
            if end < 0:
                out.append(re.escape(char))
            else:
                body = pattern[index + 1 : end].replace("\\", "\\\\")
                out.append("[" + ("^" + body[1:] if body.startswith("^") else body) + "]")
                index = end
        elif char == "\\" and index + 1 < len(pattern):
            index += 1
            out.append(re.escape(pattern[index]))
        else:
            out.append(re.escape(char))
        index += 1
    return re.compile("".join(out) + r"\Z")


def parse(text: str) -> list[Pattern]:
    """Read a .dockerignore file's text into patterns (comments and blanks dropped)."""
    patterns = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        line = line[1:].strip() if exclusion else line
        cleaned = posixpath.normpath(line).lstrip("/") or "."
        if cleaned == ".":
            continue
        patterns.append(Pattern(cleaned, exclusion, _translate(cleaned)))
    return patterns


def excluded(path: str, patterns: list[Pattern]) -> bool:
    """Whether a context-relative path is left out of the build context."""
    parents = _parents(path)
    result = False
    for pattern in patterns:
        if any(pattern.regex.match(candidate) for candidate in parents):
            result = not pattern.exclusion
    return result


def _parents(path: str) -> list[str]:
    """'a/b/c' -> ['a/b/c', 'a', 'a/b']: the path and every directory above it."""
    parts = path.split("/")
    return [path] + ["/".join(parts[:i]) for i in range(1, len(parts))]

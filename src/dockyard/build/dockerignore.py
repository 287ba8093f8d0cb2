"""`.dockerignore` patterns, read and matched as Docker's ignorefile and patternmatcher (pure).

Reading: a line starting with `#` (in column one) is a comment; blanks are trimmed and
empty lines dropped; `!` marks an exception; each pattern is path-cleaned and a leading
`/` removed. Matching: Go filepath.Match syntax (`*`, `?`, `[a-z]`, `\\` escapes) plus `**`
for any number of directories; a pattern that matches a directory matches everything
under it; the last matching pattern decides.

The Dockerfile and .dockerignore: the client always sends them (`client_patterns`), and the
daemon then drops whichever of them the patterns exclude (`files_to_remove`), after reading
the Dockerfile, so `COPY . /app` leaves them out as Docker does.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from dockyard.errors import InvalidArgument

REGEX_SPECIALS = frozenset(".+()|{}$^")


@dataclass(frozen=True, slots=True)
class Pattern:
    """One cleaned pattern: its text, whether it is an exception (`!`), and its matcher."""

    text: str
    exclusion: bool
    regex: re.Pattern | None = None
    prefix: str | None = None
    suffix: str | None = None

    def match(self, path: str) -> bool:
        if self.prefix is not None:
            return path.startswith(self.prefix)
        if self.suffix is not None:
            return path.endswith(self.suffix) or (self.suffix.startswith("/") and path == self.suffix[1:])
        if self.regex is None:
            return path == self.text
        return self.regex.match(path) is not None


def read(text: str) -> list[str]:
    """The pattern lines of a .dockerignore, cleaned (Docker's ignorefile.ReadAll)."""
    lines = []
    for line in text.removeprefix("\ufeff").splitlines():
        if line.startswith("#"):
            continue
        line = line.strip()
        if not line:
            continue
        invert = line.startswith("!")
        if invert:
            line = line[1:].strip()
        if line:
            line = posixpath.normpath(line)
            if len(line) > 1 and line.startswith("/"):
                line = line.lstrip("/") or "/"
        lines.append("!" + line if invert else line)
    return lines


def compile_patterns(lines: list[str]) -> list[Pattern]:
    """Compile cleaned lines (Docker's patternmatcher.New).

    Raises:
        InvalidArgument: `illegal exclusion pattern: "!"` or a malformed `[` class.
    """
    patterns = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        line = posixpath.normpath(line)
        exclusion = line.startswith("!")
        if exclusion:
            if len(line) == 1:
                raise InvalidArgument('illegal exclusion pattern: "!"')
            line = line[1:]
        patterns.append(_compile(line, exclusion))
    return patterns


def parse(text: str) -> list[Pattern]:
    """Read and compile a .dockerignore file's text."""
    return compile_patterns(read(text))


def excluded(path: str, patterns: list[Pattern]) -> bool:
    """Whether a context-relative path is left out (Docker's MatchesOrParentMatches)."""
    parent = posixpath.dirname(path) or "."
    parents = parent.split("/")
    result = False
    for pattern in patterns:
        if pattern.exclusion != result:
            continue
        match = pattern.match(path)
        if not match and parent != ".":
            match = any(pattern.match("/".join(parents[: i + 1])) for i in range(len(parents)))
        if match:
            result = not pattern.exclusion
    return result


def client_patterns(text: str, dockerfile: str) -> list[Pattern]:
    """The patterns the client applies: the Dockerfile and .dockerignore are always sent."""
    lines = read(text)
    patterns = compile_patterns(lines)
    if excluded(".dockerignore", patterns):
        lines.append("!.dockerignore")
    if excluded(dockerfile, patterns):
        lines.append("!" + dockerfile)
    return compile_patterns(lines)


def files_to_remove(text: str, dockerfile: str) -> list[str]:
    """Of .dockerignore and the Dockerfile, those the daemon removes from the context."""
    patterns = parse(text)
    return [name for name in (".dockerignore", dockerfile) if excluded(name, patterns)]


def _compile(text: str, exclusion: bool) -> Pattern:
    """Translate one pattern; literal ones compare exactly, `x/**` by prefix, `**/x` by suffix."""
    out, index, kind, iteration = ["^"], 0, "exact", -1
    while index < len(text):
        char = text[index]
        index, iteration = index + 1, iteration + 1
        if char == "*" and text.startswith("*", index):
            index += 1 + text.startswith("/", index + 1)
            if index == len(text):
                out.append("" if kind == "exact" else ".*")
                kind = "prefix" if kind == "exact" else "regex"
            else:
                out.append("(.*/)?")
                kind = "regex"
            if iteration == 0:
                kind = "suffix"
        elif char == "*":
            out.append("[^/]*")
            kind = "regex"
        elif char == "?":
            out.append("[^/]")
            kind = "regex"
        elif char == "\\":
            if index < len(text):
                out.append(re.escape(text[index]))
                index += 1
                kind = "regex"
            else:
                out.append(re.escape("\\"))
        elif char in "[]":
            out.append(char)
            kind = "regex"
        else:
            out.append(re.escape(char) if char in REGEX_SPECIALS else char)
    if kind == "exact":
        return Pattern(text, exclusion)
    if kind == "prefix":
        return Pattern(text, exclusion, prefix=text[:-2])
    if kind == "suffix":
        return Pattern(text, exclusion, suffix=text[2:])
    try:
        return Pattern(text, exclusion, re.compile("".join(out) + "$"))
    except re.error as exc:
        raise InvalidArgument(f"syntax error in pattern: {text}: {exc}") from None

"""Dockerfile text -> nodes, one per instruction, with its lines (pure).

The first stage of buildkit's three (parser -> instructions -> shell): parser directives
(`# escape=`, `# syntax=`, `# check=`) at the top, comments, blank lines, continuation with
the escape character, builder flags (`--from=...`), JSON or shell forms, and heredocs
(`RUN <<EOF`, `COPY <<-"EOF" /file`) whose bodies follow the instruction's line. Values stay
as written; `instructions.py` types them and `shell.py` expands them at build time.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace

from dockyard.build.shell import raw_words, unquoted_words
from dockyard.errors import DockerfileParseError, InvalidArgument

WHITESPACE = re.compile(r"[\t\v\f\r ]+")
DIRECTIVE = re.compile(r"^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
DIRECTIVES = ("syntax", "escape", "check")
HEREDOC = re.compile(r"^(\d*)<<(-?)\s*([^<]*)$")
HEREDOC_INSTRUCTIONS = ("add", "copy", "run")


@dataclass(frozen=True, slots=True)
class Heredoc:
    """One here-document: `<<EOF` (name 'EOF') with its body as written (newline-ended).

    `expand` is False when the delimiter was quoted (`<<"EOF"`, `<<'EOF'`); `chomp` is True
    for `<<-EOF`, whose `data` has the leading tabs of each line removed.
    """

    name: str
    content: str
    expand: bool = True
    chomp: bool = False

    @property
    def data(self) -> str:
        """The body a file or script receives (`<<-` strips leading tabs)."""
        if not self.chomp:
            return self.content
        return re.sub(r"(?m)^\t+", "", self.content)


@dataclass(frozen=True, slots=True)
class Node:
    """One instruction as written.

    `args` depend on the instruction: the words, one string for shell forms, the array
    for JSON forms (`json` True), or (key, value, separator) triples for ENV and LABEL.
    `sub` is ONBUILD's instruction. Lines are 1-based; `end_line` includes heredoc bodies.
    """

    instruction: str
    args: tuple[str, ...]
    flags: tuple[str, ...] = ()
    json: bool = False
    original: str = ""
    start_line: int = 0
    end_line: int = 0
    heredocs: tuple[Heredoc, ...] = ()
    sub: Node | None = None


@dataclass(frozen=True, slots=True)
class Result:
    """The nodes of a Dockerfile, its directives, escape character and warnings."""

    nodes: tuple[Node, ...]
    directives: dict[str, str]
    escape: str
    warnings: tuple[str, ...] = ()


class _Directives:
    """Reads parser directives until the first line that is not one."""

    def __init__(self) -> None:
        self.done = False
        self.found: dict[str, str] = {}
        self.escape = "\\"
        self._set_escape("\\")

    def _set_escape(self, token: str) -> None:
        if token not in ("`", "\\"):
            raise ValueError(f"invalid escape token '{token}' does not match ` or \\")
        self.escape = token
        quoted = re.escape(token)
        self.continuation = re.compile(rf"([^{quoted}]){quoted}[ \t]*$|^{quoted}[ \t]*$")

    def read(self, line: str) -> None:
        """Note `line` if it is a directive, else stop looking. Raises ValueError."""
        if self.done:
            return
        match = DIRECTIVE.match(line[1:].lstrip()) if line.startswith("#") else None
        name = match.group(1).lower() if match else ""
        if name not in DIRECTIVES:
            self.done = True
            return
        if name in self.found:
            raise ValueError(f"only one {name} parser directive can be used")
        self.found[name] = match.group(2)
        if name == "escape":
            self._set_escape(match.group(2))


def parse(text: str) -> Result:
    """Split a Dockerfile into nodes.

    Raises:
        DockerfileParseError: bad directive, bad JSON array, unterminated heredoc, or no
            instruction at all ('file with no instructions').
    """
    return _Parser(text).run()


class _Parser:
    def __init__(self, text: str) -> None:
        self.lines = _split_lines(text.removeprefix("\ufeff"))
        self.index = 0
        self.directives = _Directives()
        self.warnings: list[str] = []

    def _read(self, strip: bool) -> str:
        """The next line, newline removed, fed to the directive reader; comments become ''."""
        line = self.lines[self.index].rstrip("\r\n")
        self.index += 1
        if strip:
            line = line.lstrip()
        try:
            self.directives.read(line)
        except ValueError as exc:
            raise DockerfileParseError(str(exc), self.index) from None
        return "" if _is_comment(line) else line

    def run(self) -> Result:
        nodes = []
        while self.index < len(self.lines):
            start = self.index + 1
            line = self._instruction_line()
            if line is None:
                continue
            try:
                node = node_from_line(line, self.directives.escape)
            except ValueError as exc:
                raise DockerfileParseError(str(exc), start) from None
            heredocs = self._heredocs(node, line, start)
            node = replace(node, heredocs=heredocs, start_line=start, end_line=self.index)
            nodes.append(node)
        if not nodes:
            raise DockerfileParseError("file with no instructions")
        return Result(
            tuple(nodes),
            dict(self.directives.found),
            self.directives.escape,
            tuple(self.warnings),
        )

    def _instruction_line(self) -> str | None:
        """Join one logical line across continuations; None for a blank or comment line."""
        line, ended = self._trim_continuation(self._read(strip=True))
        if ended and not line:
            return None
        parts, empty_seen = [line], False
        while not ended and self.index < len(self.lines):
            raw = self.lines[self.index]
            line = self._read(strip=False)
            if _is_comment(raw):
                continue
            if not line.strip():
                empty_seen = True
                continue
            line, ended = self._trim_continuation(line)
            parts.append(line)
        joined = "".join(parts)
        if empty_seen:
            self.warnings.append(f"Empty continuation line found in: {joined}")
        return joined

    def _trim_continuation(self, line: str) -> tuple[str, bool]:
        pattern = self.directives.continuation
        if pattern.search(line):
            return pattern.sub(r"\1", line), False
        return line, True

    def _heredocs(self, node: Node, line: str, start: int) -> tuple[Heredoc, ...]:
        if not _can_contain_heredoc(node) or "<<" not in line:
            return ()
        try:
            words = raw_words(line)
        except InvalidArgument:
            return ()  # buildkit ignores a line it cannot split: no heredocs then
        try:
            markers = [h for h in map(parse_heredoc, words) if h is not None]
        except InvalidArgument as exc:
            raise DockerfileParseError(str(exc), start) from None
        return tuple(self._heredoc_body(marker, start) for marker in markers)

    def _heredoc_body(self, marker: Heredoc, start: int) -> Heredoc:
        body = []
        while self.index < len(self.lines):
            raw = self.lines[self.index]
            self.index += 1
            candidate = raw.rstrip("\r\n")
            if marker.chomp:
                candidate = candidate.lstrip("\t")
            if candidate == marker.name:
                return Heredoc(marker.name, "".join(body), marker.expand, marker.chomp)
            body.append(raw)
        raise DockerfileParseError("unterminated heredoc", start)


def parse_heredoc(word: str) -> Heredoc | None:
    """A heredoc marker (`<<EOF`, `<<-EOF`, `<<"EOF"`, `3<<EOF`) without its body, or None."""
    match = HEREDOC.match(word)
    if not match or not match.group(3):
        return None
    rest = match.group(3)
    words = unquoted_words(rest)
    if len(words) != 1:
        return None
    raw = raw_words(rest, raw_escapes=False)
    quotes = words[0].count("'") + words[0].count('"')
    raw_quotes = raw[0].count("'") + raw[0].count('"')
    return Heredoc(words[0], "", expand=quotes == raw_quotes, chomp=match.group(2) == "-")


def node_from_line(line: str, escape: str) -> Node:
    """One logical line (continuations joined) as a node, without heredoc bodies.

    Raises:
        ValueError: with Docker's message (bad JSON array, ENV with one word, ...).
    """
    parts = WHITESPACE.split(line.strip(), maxsplit=1)
    instruction, rest, flags = parts[0], "", ()
    if len(parts) == 2:
        rest, flags = _builder_flags(parts[1], escape)
        rest = rest.strip()
    kind = instruction.lower()
    node = Node(instruction, (), tuple(flags), original=line)
    if kind in ("env", "label"):
        return replace(node, args=_name_values(rest, kind.upper(), escape))
    if kind == "arg":
        return replace(node, args=_words(rest, escape))
    if kind in ("from", "expose"):
        return replace(node, args=_whitespace_words(rest))
    if kind in ("maintainer", "stopsignal", "user", "workdir"):
        return replace(node, args=(rest,) if rest else ())
    if kind in ("cmd", "entrypoint", "run", "shell"):
        args, is_json = _maybe_json(rest)
        return Node(instruction, args, node.flags, is_json, line)
    if kind in ("add", "copy", "volume"):
        args, is_json = _maybe_json(rest)
        args = args if is_json else _whitespace_words(rest)
        return Node(instruction, args, node.flags, is_json, line)
    if kind == "healthcheck":
        return _healthcheck(node, rest)
    if kind == "onbuild":
        sub = node_from_line(rest, escape) if rest else None
        return Node(instruction, (), node.flags, False, line, sub=sub)
    return node


def _healthcheck(node: Node, rest: str) -> Node:
    """`HEALTHCHECK [flags] TYPE cmd`: the type, then the command (JSON or shell form)."""
    parts = re.split(r"\s+", rest, maxsplit=1) if rest else []
    if not parts:
        return node
    args, is_json = _maybe_json(parts[1].lstrip() if len(parts) == 2 else "")
    return Node(node.instruction, (parts[0], *args), node.flags, is_json, node.original)


def _maybe_json(rest: str) -> tuple[tuple[str, ...], bool]:
    """A JSON array of strings (exec form) or else the text itself (shell form)."""
    if not rest:
        return (), False
    text = rest.lstrip()
    if text.startswith("["):
        try:
            value = json.loads(text, parse_constant=_no_constant)
        except ValueError:
            value = None
        if isinstance(value, list):
            if not all(isinstance(item, str) for item in value):
                raise ValueError("when using JSON array syntax, arrays must be comprised of strings only")
            return tuple(value), True
    return (rest,), False


def _no_constant(name: str) -> None:
    raise ValueError(name)


def _whitespace_words(rest: str) -> tuple[str, ...]:
    return tuple(WHITESPACE.split(rest)) if rest else ()


def _name_values(rest: str, kind: str, escape: str) -> tuple[str, ...]:
    """ENV/LABEL: `k=v k2=v2` or the legacy `k v w` (one pair, value = the rest)."""
    words = _words(rest, escape)
    if not words:
        return ()
    if "=" not in words[0]:
        parts = WHITESPACE.split(rest, maxsplit=1)
        if len(parts) < 2:
            raise ValueError(f"{kind} must have two arguments")
        return (parts[0], parts[1], "")
    args: list[str] = []
    for word in words:
        if "=" not in word:
            raise ValueError(f'Syntax error - can\'t find = in "{word}". Must be of the form: name=value')
        key, value = word.split("=", 1)
        args += [key, value, "="]
    return tuple(args)


def _words(rest: str, escape: str) -> tuple[str, ...]:
    """Split on blanks outside quotes, keeping quotes and escapes (buildkit parseWords)."""
    words: list[str] = []
    buf: list[str] = []
    quote, blank_ok, index = "", False, 0
    while index < len(rest):
        char = rest[index]
        if not quote and char.isspace():
            if blank_ok or buf:
                words.append("".join(buf))
            buf, blank_ok = [], False
        elif not quote and char in "'\"":
            quote, blank_ok = char, True
            buf.append(char)
        elif char == escape and not (quote == "'"):
            if index + 1 == len(rest):
                break
            buf.append(char + rest[index + 1])
            index += 1
        else:
            if quote and char == quote:
                quote = ""
            buf.append(char)
        index += 1
    if blank_ok or buf:
        words.append("".join(buf))
    return tuple(words)


def _builder_flags(rest: str, escape: str) -> tuple[str, list[str]]:
    """Take the leading `--name=value` words off; returns the remaining text and the flags."""
    flags: list[str] = []
    index = 0
    while True:
        while index < len(rest) and rest[index].isspace():
            index += 1
        if not rest.startswith("--", index):
            return rest[index:], flags
        word, index, blank_ok = _flag_word(rest, index, escape)
        if word == "--":
            return rest[index:], flags
        if blank_ok or word:
            flags.append(word)
        if index >= len(rest):
            return "", flags


def _flag_word(rest: str, index: int, escape: str) -> tuple[str, int, bool]:
    """One flag word from `index`: quotes removed, escapes applied."""
    buf: list[str] = []
    quote, blank_ok = "", False
    while index < len(rest):
        char = rest[index]
        if not quote and char.isspace():
            break
        if not quote and char in "'\"":
            quote, blank_ok = char, True
        elif quote and char == quote:
            quote = ""
        elif char == escape:
            index += 1
            if index < len(rest):
                buf.append(rest[index])
        else:
            buf.append(char)
        index += 1
    return "".join(buf), index, blank_ok


def _can_contain_heredoc(node: Node) -> bool:
    if node.instruction.lower() == "onbuild" and node.sub is not None:
        node = node.sub
    return node.instruction.lower() in HEREDOC_INSTRUCTIONS and not node.json


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _split_lines(text: str) -> list[str]:
    """Lines with their '\\n' kept, as Go's line scanner gives them."""
    lines = text.split("\n")
    last = lines.pop()
    lines = [line + "\n" for line in lines]
    if last:
        lines.append(last)
    return lines

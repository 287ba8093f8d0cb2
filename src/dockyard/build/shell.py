"""Dockerfile word expansion, with the rules of buildkit's shell/lex.go (pure).

`expand` turns one word into one string (quotes removed, escapes applied, variables
substituted); `expand_words` also splits the result on blanks outside quotes, as EXPOSE
and the parser's heredoc detection need. Supported forms: `$VAR`, `${VAR}`,
`${VAR:-word}`, `${VAR-word}`, `${VAR:+word}`, `${VAR+word}`, `${VAR:?msg}`, `${VAR?msg}`,
`${VAR#pat}`, `${VAR##pat}`, `${VAR%pat}`, `${VAR%%pat}`, `${VAR/pat/repl}` and
`${VAR//pat/repl}`; the escape character (`\\` or `` ` ``) quotes the next character,
single quotes are literal, double quotes allow `$` and escapes of `"`, `$` and the escape.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from dockyard.errors import InvalidArgument

SPECIAL_PARAMS = frozenset("@*#?-$!0")


def expand(word: str, env: Mapping[str, str], escape: str = "\\", quotes: bool = True) -> str:
    """One word, substituted (buildkit ProcessWord); `quotes=False` keeps quotes literal.

    Raises:
        InvalidArgument: bad substitution syntax or a `${VAR?}` on an unset VAR.
    """
    return _Lexer(word, env, escape, skip_quotes=not quotes).run(word)[0]


def expand_words(word: str, env: Mapping[str, str], escape: str = "\\") -> list[str]:
    """The word substituted and split on blanks outside quotes (buildkit ProcessWords)."""
    return _Lexer(word, env, escape).run(word)[1]


def raw_words(line: str, raw_escapes: bool = True) -> list[str]:
    """Split a line into words keeping quotes (and escapes), variables left as written."""
    return _Lexer(line, {}, "\\", raw_quotes=True, raw_escapes=raw_escapes, skip_unset=True).run(line)[1]


def unquoted_words(line: str) -> list[str]:
    """Split a line into words with quotes removed, variables left as written."""
    return _Lexer(line, {}, "\\", skip_unset=True).run(line)[1]


class _Words:
    """Collects words: blanks split unless they came from quotes or escapes."""

    def __init__(self) -> None:
        self.words: list[str] = []
        self.buf: list[str] = []
        self.in_word = False

    def add_char(self, char: str) -> None:
        if char.isspace():
            if self.in_word and any(self.buf):
                self.words.append("".join(self.buf))
                self.buf.clear()
                self.in_word = False
        else:
            self.add_raw(char)

    def add_string(self, text: str) -> None:
        for char in text:
            self.add_char(char)

    def add_raw(self, text: str) -> None:
        self.buf.append(text)
        self.in_word = True

    def result(self) -> list[str]:
        if any(self.buf):
            self.words.append("".join(self.buf))
            self.buf.clear()
        return self.words


@dataclass
class _Lexer:
    text: str
    env: Mapping[str, str]
    escape: str = "\\"
    raw_quotes: bool = False
    raw_escapes: bool = False
    skip_quotes: bool = False
    skip_unset: bool = False
    pos: int = 0

    def run(self, source: str) -> tuple[str, list[str]]:
        try:
            return self._until(None, self.raw_escapes)
        except _SyntaxError as exc:
            raise InvalidArgument(f'failed to process "{source}": {exc}') from None

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _next(self) -> str:
        char = self._peek()
        self.pos += 1 if char else 0
        return char

    def _until(self, stop: str | None, raw_escapes: bool) -> tuple[str, list[str]]:
        """Process up to `stop` (consumed) or the end; returns the text and its words.

        `raw_escapes` (kept escape characters) holds for nested quotes too, as in buildkit.
        """
        saved, self.raw_escapes = self.raw_escapes, raw_escapes
        try:
            return self._scan(stop)
        finally:
            self.raw_escapes = saved

    def _scan(self, stop: str | None) -> tuple[str, list[str]]:
        result: list[str] = []
        words = _Words()
        while self._peek():
            char = self._peek()
            if stop is not None and char == stop:
                self._next()
                return "".join(result), words.result()
            if char == "$":
                value = self._dollar()
                words.add_string(value)
            elif char == "<":
                value = self._heredoc_marker()
                words.add_raw(value)
            elif char in "'\"" and not self.skip_quotes:
                value = self._single_quote() if char == "'" else self._double_quote()
                words.add_raw(value)
            else:
                value = self._plain(words)
                if value is None:
                    break
            result.append(value)
        if stop is not None:
            raise _SyntaxError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(result), words.result()

    def _plain(self, words: _Words) -> str | None:
        """One ordinary character, or an escape and the character it quotes."""
        char = self._next()
        if char != self.escape:
            words.add_char(char)
            return char
        kept = char if self.raw_escapes else ""
        if kept:
            words.add_raw(kept)
        char = self._next()
        if not char:
            return kept or None
        words.add_raw(char)
        return kept + char

    def _single_quote(self) -> str:
        opening = self._next()
        out = [opening] if self.raw_quotes else []
        while True:
            char = self._next()
            if not char:
                raise _SyntaxError("unexpected end of statement while looking for matching single-quote")
            if char == "'":
                if self.raw_quotes:
                    out.append(char)
                return "".join(out)
            out.append(char)

    def _double_quote(self) -> str:
        opening = self._next()
        out = [opening] if self.raw_quotes else []
        while True:
            char = self._peek()
            if not char:
                raise _SyntaxError("unexpected end of statement while looking for matching double-quote")
            if char == '"':
                self._next()
                if self.raw_quotes:
                    out.append(char)
                return "".join(out)
            if char == "$":
                out.append(self._dollar())
                continue
            char = self._next()
            if char == self.escape:
                if self.raw_escapes:
                    out.append(char)
                following = self._peek()
                if not following:
                    continue
                if following in ('"', "$", self.escape):
                    char = self._next()
            out.append(char)

    def _heredoc_marker(self) -> str:
        """`<<` and the blanks after it stay one word with what follows (`<< EOF`)."""
        self._next()
        if self._peek() != "<":
            return "<"
        self._next()
        spaces = []
        while self._peek() in ("\t", "\r", " ") and self._peek():
            spaces.append(self._next())
        return "<<" + "".join(spaces)

    def _name(self) -> str:
        if self._peek().isdigit():
            start = self.pos
            while self._peek().isdigit():
                self._next()
            return self.text[start : self.pos]
        if self._peek() and self._peek() in SPECIAL_PARAMS:
            return self._next()
        start = self.pos
        while self._peek() and (self._peek().isalnum() or self._peek() == "_"):
            self._next()
        return self.text[start : self.pos]

    def _lookup(self, name: str) -> str | None:
        return self.env.get(name)

    def _dollar(self) -> str:
        self._next()
        if self._peek() != "{":
            name = self._name()
            if not name:
                return "$"
            value = self._lookup(name)
            if value is None:
                return "$" + name if self.skip_unset else ""
            return value
        self._next()
        if not self._peek():
            raise _SyntaxError("syntax error: missing '}'")
        if self._peek() in "{}:":
            raise _SyntaxError("syntax error: bad substitution")
        name = self._name()
        op = self._next()
        if not op:
            raise _SyntaxError("syntax error: missing '}'")
        if op == "}":
            value = self._lookup(name)
            if value is None:
                return "${" + name + "}" if self.skip_unset else ""
            return value
        if op == "/":
            return self._replace(name)
        return self._modifier(name, op)

    def _modifier(self, name: str, op: str) -> str:
        """`${name:-w}` and its kin: op is the character after the name."""
        ops = op
        null_is_unset = op == ":"
        if null_is_unset:
            op = self._next()
            ops += op
        if op not in ("-", "+", "?", "#", "%") or (null_is_unset and op in "#%"):
            raise _SyntaxError(f"unsupported modifier ({ops}) in substitution")
        word = self._stop_on_brace(raw_escapes=op in "#%")
        value = self._lookup(name)
        if value is None and self.skip_unset:
            return "${" + name + ops + word + "}"
        unset = value is None or (null_is_unset and value == "")
        if op == "-":
            return word if unset else value
        if op == "+":
            return "" if unset else word
        if op == "?":
            if value is None:
                raise _SyntaxError(f"{name}: {word or 'is not allowed to be unset'}")
            if unset:
                raise _SyntaxError(f"{name}: {word or 'is not allowed to be empty'}")
            return value
        greedy = word.startswith(op)
        word = word[1:] if greedy else word
        return _trim_suffix(word, value or "", greedy) if op == "%" else _trim_prefix(word, value or "", greedy)

    def _stop_on_brace(self, raw_escapes: bool) -> str:
        try:
            return self._until("}", raw_escapes)[0]
        except _SyntaxError:
            if not self._peek():
                raise _SyntaxError("syntax error: missing '}'") from None
            raise

    def _replace(self, name: str) -> str:
        """`${name/pattern/replacement}` (first match) and `${name//...}` (every match)."""
        every = self._peek() == "/"
        if every:
            self._next()
        try:
            pattern = self._until("/", True)[0]
        except _SyntaxError:
            if not self._peek():
                raise _SyntaxError("syntax error: missing '/' in ${}") from None
            raise
        replacement = self._stop_on_brace(raw_escapes=True)
        value = self._lookup(name)
        if value is None and self.skip_unset:
            return "${" + name + "/" + pattern + "/" + replacement + "}"
        regex = _pattern_regex(pattern, greedy=True, anchored=False)
        return regex.sub(lambda _: replacement, value or "", count=0 if every else 1)


class _SyntaxError(Exception):
    """Bad substitution syntax, reported with the word by `_Lexer.run`."""


def _pattern_regex(pattern: str, greedy: bool, anchored: bool) -> re.Pattern:
    """A shell glob (`*`, `?`, `\\` escapes) as a regex."""
    out = ["^"] if anchored else []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        index += 1
        if char == "*":
            out.append(".*" if greedy else ".*?")
        elif char == "?":
            out.append(".")
        elif char == "\\":
            following = pattern[index : index + 1]
            if following in ("}", "/"):
                continue
            index += 1
            if following not in ("*", "?", "\\"):
                raise _SyntaxError(f"invalid pattern ({pattern}) in substitution: invalid escape '\\{following}'")
            out.append(re.escape(following))
        else:
            out.append(re.escape(char))
    return re.compile("".join(out))


def _trim_prefix(pattern: str, value: str, greedy: bool) -> str:
    match = _pattern_regex(pattern, greedy, anchored=True).search(value)
    return value[match.end() :] if match else value


def _trim_suffix(pattern: str, value: str, greedy: bool) -> str:
    """Trim the suffix by trimming the prefix of the reversed value with the reversed pattern."""
    return _trim_prefix(_reverse_pattern(pattern), value[::-1], greedy)[::-1]


def _reverse_pattern(pattern: str) -> str:
    """Reverse a glob keeping each `\\x` escape pair in order."""
    tokens, index = [], 0
    while index < len(pattern):
        if pattern[index] == "\\" and index + 1 < len(pattern):
            tokens.append(pattern[index : index + 2])
            index += 2
        else:
            tokens.append(pattern[index])
            index += 1
    return "".join(reversed(tokens))

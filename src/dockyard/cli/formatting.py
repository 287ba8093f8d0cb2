"""A Go text/template subset for `--format`, pure: parse once, render over dicts or contexts.

Supported: text, `{{.A.B}}`, `{{.}}`, `$`/`$var` (with `:=`), string/number/bool literals,
pipelines (`|`), parentheses, `if`/`else if`/`else`, `range` (with `$k, $v :=`), `with`,
trim markers `{{-`/`-}}`, and the functions docker registers plus Go's builtins used in
practice: json, index, upper, lower, title, join, split, truncate, pad, len, print(ln),
printf, eq, ne, lt, le, gt, ge, and, or, not.
"""

from __future__ import annotations

import json
import re

from dockyard.errors import InvalidArgument

_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)
_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|`[^`]*`)|(?P<num>-?\d+(?:\.\d+)?)|(?P<var>\$\w*(?:\.\w+)*)'
    r"|(?P<field>(?:\.\w+)+|\.)|(?P<op>:=|[|(),=])|(?P<ident>\w+))"
)
NO_VALUE = "<no value>"


class Template:
    """A parsed template; `render(data)` returns the text."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.nodes = _Parser(source).parse()

    def render(self, data: object) -> str:
        out: list[str] = []
        _exec(self.nodes, data, {"$": data}, out)
        return "".join(out)


def _lex(source: str) -> list[tuple[str, str]]:
    """Split into ('text', s) and ('action', s) items, applying trim markers."""
    items: list[tuple[str, str]] = []
    pos = 0
    for match in _ACTION.finditer(source):
        text = source[pos : match.start()]
        if match.group(1):
            text = text.rstrip()
        if items and items[-1][0] == "trim":
            items.pop()
            text = text.lstrip()
        if text:
            items.append(("text", text))
        items.append(("action", match.group(2).strip()))
        if match.group(3):
            items.append(("trim", ""))
        pos = match.end()
    tail = source[pos:]
    if items and items[-1][0] == "trim":
        items.pop()
        tail = tail.lstrip()
    if "{{" in tail:
        raise InvalidArgument(f"template: unclosed action in {source!r}")
    if tail:
        items.append(("text", tail))
    return items


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise InvalidArgument(f"template: bad syntax in {{{{{text}}}}}")
        tokens.append((match.lastgroup, match.group(match.lastgroup)))
        pos = match.end()
    return tokens


class _Parser:
    """Turn lexed items into a node tree of tuples."""

    def __init__(self, source: str) -> None:
        self.items = _lex(source)
        self.pos = 0

    def parse(self) -> list:
        nodes, end = self._block()
        if end is not None:
            raise InvalidArgument(f"template: unexpected {{{{{end}}}}}")
        return nodes

    def _block(self) -> tuple[list, str | None]:
        nodes: list = []
        while self.pos < len(self.items):
            kind, text = self.items[self.pos]
            self.pos += 1
            if kind == "text":
                nodes.append(("text", text))
                continue
            word = text.split(None, 1)[0] if text else ""
            if word in ("end", "else"):
                return nodes, text
            if word in ("if", "range", "with"):
                nodes.append(self._control(word, text[len(word) :]))
            elif text.startswith("/*"):
                continue
            else:
                nodes.append(("action", _pipeline(_tokens(text))))
        return nodes, None

    def _control(self, word: str, rest: str) -> tuple:
        body, end = self._block()
        other: list = []
        if end is not None and end.startswith("else"):
            tail = end[4:].strip()
            if tail.startswith("if ") and word == "if":
                other = [self._control("if", tail[2:])]
                return (word, _pipeline(_tokens(rest)), body, other)
            other, end = self._block()
        if end != "end":
            raise InvalidArgument(f"template: unexpected EOF in {word}")
        return (word, _pipeline(_tokens(rest)), body, other)


def _pipeline(tokens: list[tuple[str, str]]) -> tuple:
    """Parse `[$a[, $b] :=] cmd | cmd ...` into ('pipe', decl, commands)."""
    decl: list[str] = []
    if len(tokens) >= 2 and tokens[0][0] == "var":
        if tokens[1] == ("op", ":="):
            decl, tokens = [tokens[0][1]], tokens[2:]
        elif len(tokens) >= 4 and tokens[1] == ("op", ",") and tokens[3] == ("op", ":="):
            decl, tokens = [tokens[0][1], tokens[2][1]], tokens[4:]
    commands, current, depth, group = [], [], 0, []
    for index, token in enumerate(tokens):
        if not depth and token[0] == "field" and index and tokens[index - 1] == ("op", ")"):
            current[-1] = ("sub", ("chain", current[-1][1], token[1]))
            continue
        if token == ("op", "("):
            if depth:
                group.append(token)
            depth += 1
            continue
        if token == ("op", ")"):
            depth -= 1
            if depth:
                group.append(token)
            else:
                current.append(("sub", _pipeline(group)))
                group = []
            continue
        if depth:
            group.append(token)
        elif token == ("op", "|"):
            commands.append(current)
            current = []
        else:
            current.append(token)
    commands.append(current)
    if depth or any(not cmd for cmd in commands):
        raise InvalidArgument("template: malformed pipeline")
    return ("pipe", decl, commands)


def _exec(nodes: list, dot: object, env: dict, out: list[str]) -> None:
    for node in nodes:
        kind = node[0]
        if kind == "text":
            out.append(node[1])
        elif kind == "action":
            value = _eval_pipe(node[1], dot, env)
            if not node[1][1]:
                out.append(to_text(value))
        elif kind == "if":
            branch = node[2] if truthy(_eval_pipe(node[1], dot, env)) else node[3]
            _exec(branch, dot, env, out)
        elif kind == "with":
            value = _eval_pipe(node[1], dot, env)
            _exec(node[2] if truthy(value) else node[3], value if truthy(value) else dot, env, out)
        else:
            _range(node, dot, env, out)


def _range(node: tuple, dot: object, env: dict, out: list[str]) -> None:
    pipe = node[1]
    value = _eval_pipe(("pipe", [], pipe[2]), dot, env)
    if isinstance(value, dict):
        pairs = [(key, value[key]) for key in sorted(value)]
    elif isinstance(value, (list, tuple)):
        pairs = list(enumerate(value))
    elif value is None:
        pairs = []
    else:
        raise InvalidArgument(f"template: range can't iterate over {to_text(value)}")
    if not pairs:
        _exec(node[3], dot, env, out)
    decl = pipe[1]
    for key, item in pairs:
        scope = dict(env)
        if len(decl) == 2:
            scope[decl[0]], scope[decl[1]] = key, item
        elif decl:
            scope[decl[0]] = item
        _exec(node[2], item, scope, out)


def _eval_pipe(pipe: tuple, dot: object, env: dict) -> object:
    _, decl, commands = pipe
    value: object = None
    for index, command in enumerate(commands):
        extra = [value] if index else []
        value = _eval_command(command, dot, env, extra)
    if len(decl) == 1:
        env[decl[0]] = value
    return value


def _eval_command(command: list, dot: object, env: dict, extra: list) -> object:
    kind, text = command[0]
    if kind == "ident" and text not in ("true", "false", "nil"):
        func = FUNCTIONS.get(text)
        if func is None:
            raise InvalidArgument(f'template: function "{text}" not defined')
        args = [_called(_eval_arg(token, dot, env)) for token in command[1:]] + extra
        return func(*args)
    head = _eval_arg(command[0], dot, env)
    args = [_called(_eval_arg(token, dot, env)) for token in command[1:]] + extra
    if args:
        if not _is_method(head):
            raise InvalidArgument(f"template: can't give argument to non-function {text}")
        return head(*args)
    return _called(head)


def _is_method(value: object) -> bool:
    return getattr(value, "__self__", None) is not None and callable(value)


def _called(value: object) -> object:
    """Go calls a niladic method named in a template; so do we."""
    return value() if _is_method(value) else value


def _eval_arg(token: tuple, dot: object, env: dict) -> object:
    kind, text = token
    if kind == "str":
        return json.loads(text) if text[0] == '"' else text[1:-1]
    if kind == "num":
        return float(text) if "." in text else int(text)
    if kind == "ident":
        return {"true": True, "false": False, "nil": None}.get(text, text)
    if kind == "sub" and text[0] == "chain":
        return _walk(_called(_eval_pipe(text[1], dot, env)), [p for p in text[2].split(".") if p])
    if kind == "sub":
        return _eval_pipe(text, dot, env)
    if kind == "var":
        name, _, path = text.partition(".")
        if name not in env:
            raise InvalidArgument(f"template: undefined variable: {name}")
        return _walk(env[name], path.split(".") if path else [])
    if kind == "field":
        return _walk(dot, [part for part in text.split(".") if part])
    raise InvalidArgument(f"template: unexpected {text!r}")


def _walk(value: object, parts: list[str]) -> object:
    for index, part in enumerate(parts):
        if isinstance(value, dict):
            value = value.get(part, _Missing)
            if value is _Missing:
                return NO_VALUE if index == len(parts) - 1 else None
            continue
        if value is None:
            raise InvalidArgument(f"template: nil pointer evaluating .{part}")
        attr = getattr(value, part, _Missing) if not part.startswith("_") else _Missing
        if attr is _Missing:
            raise InvalidArgument(f"template: can't evaluate field {part}")
        last = index == len(parts) - 1
        value = attr if last else _called(attr)
    return value


class _Missing:
    """Marker for a key that is not in a map."""


def to_text(value: object) -> str:
    """Print a value as Go's fmt %v does for JSON-shaped data."""
    value = _called(value)
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{to_text(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(to_text(item) for item in value) + "]"
    return str(value)


def truthy(value: object) -> bool:
    """Go template truth: false, 0, nil and empty things are false."""
    value = _called(value)
    return bool(value) and value != NO_VALUE


def to_json(value: object) -> str:
    """Docker's `json` function: compact JSON, no HTML escaping."""
    if hasattr(value, "to_json"):
        value = value.to_json()
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def _json_default(value: object) -> object:
    if hasattr(value, "to_json"):
        return value.to_json()
    raise TypeError(f"cannot encode {type(value).__name__}")


def _index(container: object, *keys: object) -> object:
    for key in keys:
        if isinstance(container, dict):
            container = container.get(key)
        elif isinstance(container, (list, tuple)) and isinstance(key, int):
            if not 0 <= key < len(container):
                raise InvalidArgument(f"template: index out of range: {key}")
            container = container[key]
        else:
            raise InvalidArgument(f"template: can't index item of type {type(container).__name__}")
    return container


def _printf(fmt: str, *args: object) -> str:
    values = iter(args)
    return re.sub(r"%[-+ #0-9.]*([svdqf%])", lambda m: _printf_one(m, values), fmt)


def _printf_one(match: re.Match, values) -> str:
    verb = match.group(1)
    if verb == "%":
        return "%"
    value = next(values, None)
    if verb == "q":
        return json.dumps(to_text(value), ensure_ascii=False)
    spec = match.group(0)[1:-1]
    if verb in "df" and isinstance(value, (int, float)):
        return format(value, spec + verb)
    return format(to_text(value), spec.lstrip("+#0 "))


def _compare(op):
    def compare(left: object, *rights: object) -> bool:
        return any(op(left, right) for right in rights) if rights else False

    return compare


FUNCTIONS = {
    "json": to_json,
    "index": _index,
    "upper": lambda s: to_text(s).upper(),
    "lower": lambda s: to_text(s).lower(),
    "title": lambda s: to_text(s).title(),
    "join": lambda items, sep: sep.join(to_text(i) for i in (items or [])),
    "split": lambda s, sep: to_text(s).split(sep),
    "truncate": lambda s, n: to_text(s)[: int(n)],
    "pad": lambda s, left, right: " " * int(left) + to_text(s) + " " * int(right),
    "len": lambda v: len(v or ()),
    "print": lambda *a: "".join(to_text(v) for v in a),
    "println": lambda *a: " ".join(to_text(v) for v in a) + "\n",
    "printf": _printf,
    "eq": _compare(lambda a, b: a == b),
    "ne": lambda a, b: a != b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "not": lambda v: not truthy(v),
    "and": lambda *a: next((v for v in a if not truthy(v)), a[-1]),
    "or": lambda *a: next((v for v in a if truthy(v)), a[-1]),
}

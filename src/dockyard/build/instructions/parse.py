"""Parser nodes -> typed instructions, with Docker's checks and messages (pure)."""

from __future__ import annotations

import re
from collections.abc import Callable

from dockyard.build import parser
from dockyard.build.instructions import commands as c
from dockyard.build.instructions.flags import parse_flags
from dockyard.build.parser import Heredoc, Node
from dockyard.errors import DockerfileParseError, InvalidArgument
from dockyard.units import go_duration_ns

STAGE_NAME = re.compile(r"^[a-z][a-z0-9-_.]*$")
NETWORKS = ("default", "none", "host")


def parse_dockerfile(text: str) -> c.Dockerfile:
    """Parse a Dockerfile's text into global ARGs and stages.

    Raises:
        DockerfileParseError: with the line, e.g.
            'dockerfile parse error line 3: unknown instruction: FOO'.
    """
    result = parser.parse(text)
    global_args: list[c.Arg] = []
    stages: list[tuple[c.From, list[c.Instruction]]] = []
    for node in result.nodes:
        instruction = instruction_from_node(node)
        if isinstance(instruction, c.From):
            stages.append((instruction, []))
        elif not stages and isinstance(instruction, c.Arg):
            global_args.append(instruction)
        elif not stages:
            raise DockerfileParseError("no build stage in current context", node.start_line)
        else:
            stages[-1][1].append(instruction)
    return c.Dockerfile(
        tuple(c.Stage(from_, tuple(body)) for from_, body in stages),
        tuple(global_args),
        result.directives,
        result.escape,
        result.warnings,
    )


def parse_trigger(expression: str, escape: str = "\\") -> c.Instruction:
    """Parse one ONBUILD trigger stored in an image (`Onbuild.expression`), heredocs included.

    Raises:
        DockerfileParseError: as `parse_dockerfile`.
    """
    directive = "# escape=`\n" if escape == "`" else ""
    nodes = parser.parse(directive + expression).nodes
    if len(nodes) != 1:
        raise DockerfileParseError(f"invalid ONBUILD trigger: {expression!r}")
    return instruction_from_node(nodes[0])


def instruction_from_node(node: Node) -> c.Instruction:
    """Type one node. Raises DockerfileParseError naming the node's first line."""
    convert = CONVERTERS.get(node.instruction.lower())
    if convert is None:
        message = f"unknown instruction: {node.instruction.upper()}"
        raise DockerfileParseError(message, node.start_line)
    try:
        return convert(node, node.start_line, node.original.strip())
    except ValueError as exc:
        raise DockerfileParseError(str(exc), node.start_line) from None


def _exactly_one(node: Node, name: str) -> str:
    if len(node.args) != 1:
        raise ValueError(f"{name} requires exactly one argument")
    return node.args[0]


def _at_least_one(node: Node, name: str) -> tuple[str, ...]:
    if not node.args:
        raise ValueError(f"{name} requires at least one argument")
    return node.args


def _key_values(node: Node, name: str) -> tuple[c.KeyValue, ...]:
    args = _at_least_one(node, name)
    pairs = []
    for index in range(0, len(args), 3):
        if not args[index]:
            raise ValueError(f"{name} names can not be blank")
        pairs.append(c.KeyValue(args[index], args[index + 1]))
    return tuple(pairs)


def _env(node: Node, line: int, original: str) -> c.Env:
    parse_flags(node.flags)
    return c.Env(line, original, _key_values(node, "ENV"))


def _label(node: Node, line: int, original: str) -> c.Label:
    parse_flags(node.flags)
    return c.Label(line, original, _key_values(node, "LABEL"))


def _maintainer(node: Node, line: int, original: str) -> c.Maintainer:
    value = _exactly_one(node, "MAINTAINER")
    parse_flags(node.flags)
    return c.Maintainer(line, original, value)


def _from(node: Node, line: int, original: str) -> c.From:
    args, name = node.args, ""
    if len(args) == 3 and args[1].lower() == "as":
        name = args[2].lower()
        if not STAGE_NAME.match(name):
            raise ValueError(
                f'invalid name for build stage: "{args[2]}", name can\'t start with a number or contain symbols'
            )
    elif len(args) != 1:
        raise ValueError("FROM requires either one or three arguments")
    flags = parse_flags(node.flags, strings=("platform",))
    return c.From(line, original, args[0], name, str(flags.get("platform", "")))


def _sources_and_dest(node: Node, name: str) -> tuple[tuple[str, ...], str, tuple[Heredoc, ...]]:
    if len(node.args) < 2:
        raise ValueError(
            f"{name} requires at least two arguments, but only one was provided. Destination could not be determined"
        )
    *sources, dest = node.args
    if parser.parse_heredoc(dest) is not None:
        raise ValueError(f"{name} cannot accept a heredoc as a destination")
    bodies = {heredoc.name: heredoc for heredoc in node.heredocs}
    paths, inline = [], []
    for source in sources:
        marker = parser.parse_heredoc(source)
        if marker is None:
            paths.append(source)
        else:
            body = bodies.get(marker.name, Heredoc(marker.name, ""))
            inline.append(Heredoc(marker.name, body.content, marker.expand, marker.chomp))
    return tuple(paths), dest, tuple(inline)


def _copy(node: Node, line: int, original: str) -> c.Copy:
    flags = parse_flags(
        node.flags,
        strings=("chown", "chmod", "from"),
        bools=("link",),
        refused=("parents", "exclude"),
    )
    sources, dest, heredocs = _sources_and_dest(node, "COPY")
    return c.Copy(
        line,
        original,
        sources,
        dest,
        heredocs,
        from_=str(flags.get("from", "")),
        chown=str(flags.get("chown", "")),
        chmod=str(flags.get("chmod", "")),
        link=bool(flags.get("link", False)),
    )


def _add(node: Node, line: int, original: str) -> c.Add:
    flags = parse_flags(
        node.flags,
        strings=("chown", "chmod"),
        bools=("link",),
        refused=("keep-git-dir", "checksum", "unpack", "exclude"),
    )
    sources, dest, heredocs = _sources_and_dest(node, "ADD")
    return c.Add(
        line,
        original,
        sources,
        dest,
        heredocs,
        chown=str(flags.get("chown", "")),
        chmod=str(flags.get("chmod", "")),
        link=bool(flags.get("link", False)),
    )


def _onbuild(node: Node, line: int, original: str) -> c.Onbuild:
    if node.sub is None:
        raise ValueError("ONBUILD requires at least one argument")
    parse_flags(node.flags)
    trigger = node.sub.instruction.strip().upper()
    if trigger == "ONBUILD":
        raise ValueError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
    if trigger in ("MAINTAINER", "FROM"):
        raise ValueError(f"{trigger} isn't allowed as an ONBUILD trigger")
    expression = re.sub(r"(?i)^\s*ONBUILD\s*", "", node.original)
    for heredoc in node.heredocs:
        expression += "\n" + heredoc.content + heredoc.name
    return c.Onbuild(line, original, expression)


def _workdir(node: Node, line: int, original: str) -> c.Workdir:
    path = _exactly_one(node, "WORKDIR")
    parse_flags(node.flags)
    return c.Workdir(line, original, path)


def _command_line(node: Node) -> c.CommandLine:
    if node.json:
        args = node.args
    else:
        args = (" ".join(node.args),) if node.args else ()
    return c.CommandLine(args, not node.json, node.heredocs)


def _run(node: Node, line: int, original: str) -> c.Run:
    flags = parse_flags(node.flags, strings=("network",), refused=("mount", "security", "device"))
    network = str(flags.get("network", "default"))
    if network not in NETWORKS:
        raise ValueError(f'invalid network mode "{network}"')
    return c.Run(line, original, _command_line(node), network)


def _cmd(node: Node, line: int, original: str) -> c.Cmd:
    parse_flags(node.flags)
    return c.Cmd(line, original, _command_line(node))


def _entrypoint(node: Node, line: int, original: str) -> c.Entrypoint:
    parse_flags(node.flags)
    return c.Entrypoint(line, original, _command_line(node))


def _expose(node: Node, line: int, original: str) -> c.Expose:
    ports = _at_least_one(node, "EXPOSE")
    parse_flags(node.flags)
    return c.Expose(line, original, tuple(sorted(ports)))


def _user(node: Node, line: int, original: str) -> c.User:
    user = _exactly_one(node, "USER")
    parse_flags(node.flags)
    return c.User(line, original, user)


def _volume(node: Node, line: int, original: str) -> c.Volume:
    volumes = tuple(volume.strip() for volume in _at_least_one(node, "VOLUME"))
    parse_flags(node.flags)
    if "" in volumes:
        raise ValueError("VOLUME specified can not be an empty string")
    return c.Volume(line, original, volumes)


def _stopsignal(node: Node, line: int, original: str) -> c.StopSignal:
    signal = _exactly_one(node, "STOPSIGNAL")
    parse_flags(node.flags)
    return c.StopSignal(line, original, signal)


def _arg(node: Node, line: int, original: str) -> c.Arg:
    definitions = []
    for word in _at_least_one(node, "ARG"):
        name, has_default, default = word.partition("=")
        if has_default and not name:
            raise ValueError("ARG names can not be blank")
        definitions.append(c.ArgDefinition(name, default if has_default else None))
    parse_flags(node.flags)
    return c.Arg(line, original, tuple(definitions))


def _shell(node: Node, line: int, original: str) -> c.Shell:
    parse_flags(node.flags)
    if not node.args:
        raise ValueError("SHELL requires at least one argument")
    if not node.json:
        raise ValueError("SHELL requires the arguments to be in JSON form")
    return c.Shell(line, original, node.args)


def _healthcheck(node: Node, line: int, original: str) -> c.Healthcheck:
    kind, *args = _at_least_one(node, "HEALTHCHECK")
    kind = kind.upper()
    if kind == "NONE":
        if args:
            raise ValueError("HEALTHCHECK NONE takes no arguments")
        parse_flags(node.flags)
        return c.Healthcheck(line, original, ("NONE",))
    names = ("interval", "timeout", "start-period", "start-interval", "retries")
    flags = parse_flags(node.flags, strings=names)
    if kind != "CMD":
        raise ValueError(f'Unknown type "{kind}" in HEALTHCHECK (try CMD)')
    command = list(args) if node.json else ([" ".join(args)] if args else [])
    if not command:
        raise ValueError("Missing command after HEALTHCHECK CMD")
    durations = [_interval(name, str(flags.get(name, ""))) for name in names[:4]]
    return c.Healthcheck(
        line,
        original,
        ("CMD" if node.json else "CMD-SHELL", *command),
        *durations,
        retries=_retries(str(flags.get("retries", ""))),
    )


def _interval(name: str, value: str) -> int:
    """A HEALTHCHECK duration in nanoseconds: 0 when unset, else at least 1ms."""
    try:
        duration = go_duration_ns(value) if value else 0
    except InvalidArgument as exc:
        raise ValueError(str(exc)) from None
    if 0 < duration < 10**6 or duration < 0:
        raise ValueError(f'Interval "{name}" cannot be less than 1ms')
    return duration


def _retries(value: str) -> int:
    if not value:
        return 0
    if not re.fullmatch(r"[+-]?\d+", value):
        raise ValueError(f'strconv.ParseInt: parsing "{value}": invalid syntax')
    if int(value) < 0:
        raise ValueError(f"--retries cannot be negative ({int(value)})")
    return int(value)


CONVERTERS: dict[str, Callable[[Node, int, str], c.Instruction]] = {
    "add": _add,
    "arg": _arg,
    "cmd": _cmd,
    "copy": _copy,
    "entrypoint": _entrypoint,
    "env": _env,
    "expose": _expose,
    "from": _from,
    "healthcheck": _healthcheck,
    "label": _label,
    "maintainer": _maintainer,
    "onbuild": _onbuild,
    "run": _run,
    "shell": _shell,
    "stopsignal": _stopsignal,
    "user": _user,
    "volume": _volume,
    "workdir": _workdir,
}

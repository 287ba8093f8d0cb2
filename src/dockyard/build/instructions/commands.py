"""Typed Dockerfile instructions: what `parse_dockerfile` returns (pure, no I/O).

Every instruction is a frozen dataclass carrying `line` (where it starts, 1-based) and
`original` (its source text, continuations joined, for history and cache keys). Values are
as written, quotes included: substitution (which also removes quotes) happens at build
time, through `dockyard.build.substitute`, with the stage's ENV and ARG values at that step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dockyard.build.parser import HEREDOC, Heredoc


@dataclass(frozen=True, slots=True)
class KeyValue:
    """One `key=value` of ENV or LABEL."""

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class ArgDefinition:
    """One name of ARG, with its default (None when ARG gives no `=value`)."""

    name: str
    default: str | None = None


@dataclass(frozen=True, slots=True)
class CommandLine:
    """RUN, CMD or ENTRYPOINT's command.

    Shell form (`prepend_shell`): `args` is one string, run as `SHELL + [args[0]]`.
    Exec (JSON) form: `args` is the argv as written. `heredocs` are the bodies of any
    `<<EOF` the shell form names.
    """

    args: tuple[str, ...]
    prepend_shell: bool
    heredocs: tuple[Heredoc, ...] = ()


@dataclass(frozen=True, slots=True)
class Instruction:
    """Base of every instruction: its first line and its source text."""

    line: int
    original: str


@dataclass(frozen=True, slots=True)
class From(Instruction):
    """`FROM [--platform=P] image [AS name]`; `base` is 'scratch', an image or a stage name."""

    base: str
    name: str = ""
    platform: str = ""


@dataclass(frozen=True, slots=True)
class Run(Instruction):
    """`RUN [--network=default|none|host] command`; other BuildKit flags are refused at parse."""

    command: CommandLine
    network: str = "default"


@dataclass(frozen=True, slots=True)
class Cmd(Instruction):
    command: CommandLine


@dataclass(frozen=True, slots=True)
class Entrypoint(Instruction):
    """`ENTRYPOINT`; an empty exec form (`ENTRYPOINT []`) has `command.args == ()`."""

    command: CommandLine


@dataclass(frozen=True, slots=True)
class Label(Instruction):
    labels: tuple[KeyValue, ...]


@dataclass(frozen=True, slots=True)
class Maintainer(Instruction):
    maintainer: str


@dataclass(frozen=True, slots=True)
class Expose(Instruction):
    """`EXPOSE 80 443/tcp`; each word may expand to several ports (word splitting)."""

    ports: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Env(Instruction):
    env: tuple[KeyValue, ...]


@dataclass(frozen=True, slots=True)
class Copy(Instruction):
    """`COPY [--from=] [--chown=] [--chmod=] [--link] src... dest`.

    `sources` are paths (or globs) in the context or in `from_`; `heredocs` are inline
    files (`COPY <<EOF /dest`), written under their names. `from_` is a stage name, a stage
    index or an image reference, never substituted (Docker refuses variables there).
    """

    sources: tuple[str, ...]
    dest: str
    heredocs: tuple[Heredoc, ...] = ()
    from_: str = ""
    chown: str = ""
    chmod: str = ""
    link: bool = False


@dataclass(frozen=True, slots=True)
class Add(Instruction):
    """`ADD [--chown=] [--chmod=] [--link] src... dest`; sources may be URLs or local tars."""

    sources: tuple[str, ...]
    dest: str
    heredocs: tuple[Heredoc, ...] = ()
    chown: str = ""
    chmod: str = ""
    link: bool = False


@dataclass(frozen=True, slots=True)
class User(Instruction):
    user: str


@dataclass(frozen=True, slots=True)
class Workdir(Instruction):
    path: str


@dataclass(frozen=True, slots=True)
class Volume(Instruction):
    volumes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Arg(Instruction):
    args: tuple[ArgDefinition, ...]


@dataclass(frozen=True, slots=True)
class Onbuild(Instruction):
    """`ONBUILD <instruction>`: `expression` is what the image stores in its OnBuild list.

    Docker checks a trigger only when a child build runs it (`parse_trigger`).
    """

    expression: str


@dataclass(frozen=True, slots=True)
class StopSignal(Instruction):
    signal: str


@dataclass(frozen=True, slots=True)
class Healthcheck(Instruction):
    """`HEALTHCHECK NONE` (`test == ('NONE',)`) or `HEALTHCHECK [opts] CMD ...`.

    `test` is the image config's Healthcheck.Test: `('CMD', argv...)` for the exec form,
    `('CMD-SHELL', 'command')` for the shell form. Durations are nanoseconds, 0 = unset.
    """

    test: tuple[str, ...]
    interval: int = 0
    timeout: int = 0
    start_period: int = 0
    start_interval: int = 0
    retries: int = 0


@dataclass(frozen=True, slots=True)
class Shell(Instruction):
    shell: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Stage:
    """One `FROM` and the instructions up to the next one."""

    from_: From
    instructions: tuple[Instruction, ...] = ()

    @property
    def base(self) -> str:
        return self.from_.base

    @property
    def name(self) -> str:
        return self.from_.name

    @property
    def platform(self) -> str:
        return self.from_.platform


@dataclass(frozen=True, slots=True)
class Dockerfile:
    """A parsed Dockerfile.

    `directives` are the parser directives read (`{'escape': '`', 'syntax': '...'}`);
    `escape` is the escape character in force; `global_args` are the ARGs before the first
    FROM, usable only in FROM lines (and, redeclared with no value, inside a stage);
    `warnings` are the parser's (empty continuation lines), for the build output.
    """

    stages: tuple[Stage, ...]
    global_args: tuple[Arg, ...] = ()
    directives: dict[str, str] = field(default_factory=dict)
    escape: str = "\\"
    warnings: tuple[str, ...] = ()


def shell_script(command: CommandLine) -> str:
    """The string a shell-form RUN passes after SHELL, heredocs included (as buildkit).

    A lone `RUN <<EOF` runs the body itself; otherwise the command line is followed by each
    heredoc's body and terminator for the shell to read.
    """
    if not command.heredocs:
        return command.args[0]
    lone = lone_heredoc(command)
    if lone is not None:
        return lone.data
    parts = [command.args[0]]
    for heredoc in command.heredocs:
        parts.append("\n" + heredoc.content + heredoc.name)
    return "".join(parts)


def lone_heredoc(command: CommandLine) -> Heredoc | None:
    """The heredoc when the whole shell-form command is one `<<EOF` (a `#!` body is run as a file)."""
    if command.prepend_shell and command.heredocs and HEREDOC.match(command.args[0].strip()):
        return command.heredocs[0]
    return None

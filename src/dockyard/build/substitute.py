"""Variable substitution per instruction, with Docker's rules of which fields expand (pure).

The builder calls `substitute(instruction, env, escape)` before dispatching each step, with
the stage's ENV and the ARGs in scope at that step; FROM lines use `substitute_from` with
the global ARGs only. Expanded, per buildkit's `SupportsSingleWordExpansion`:

    ENV, LABEL      keys and values        ADD, COPY   sources, dest, --chown, --chmod,
    ARG             names and defaults                 and unquoted heredoc bodies
    EXPOSE          ports (word-split)     USER, WORKDIR, STOPSIGNAL, VOLUME   their values
    FROM            base and --platform (global ARGs only)

RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK, MAINTAINER and ONBUILD are left as written (the
shell, or the child build, expands them). COPY --from is never expanded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from dockyard.build import shell
from dockyard.build.instructions import commands as c
from dockyard.build.parser import Heredoc


def substitute(instruction: c.Instruction, env: Mapping[str, str], escape: str = "\\") -> c.Instruction:
    """The instruction with its expandable fields substituted (a new value; others as is).

    Raises:
        InvalidArgument: bad substitution syntax (`failed to process "${A": ...`).
    """
    rule = RULES.get(type(instruction))
    if rule is None:
        return instruction
    return rule(instruction, lambda word: shell.expand(word, env, escape), env, escape)


def substitute_from(from_: c.From, global_args: Mapping[str, str], escape: str = "\\") -> c.From:
    """FROM's base and --platform substituted with the ARGs declared before the first FROM."""
    return replace(
        from_,
        base=shell.expand(from_.base, global_args, escape),
        platform=shell.expand(from_.platform, global_args, escape),
    )


Expander = Callable[[str], str]


def _pairs(pairs: tuple[c.KeyValue, ...], expand: Expander) -> tuple[c.KeyValue, ...]:
    return tuple(c.KeyValue(expand(pair.key), expand(pair.value)) for pair in pairs)


def _env(cmd: c.Env, expand: Expander, env: Mapping[str, str], escape: str) -> c.Env:
    return replace(cmd, env=_pairs(cmd.env, expand))


def _label(cmd: c.Label, expand: Expander, env: Mapping[str, str], escape: str) -> c.Label:
    return replace(cmd, labels=_pairs(cmd.labels, expand))


def _arg(cmd: c.Arg, expand: Expander, env: Mapping[str, str], escape: str) -> c.Arg:
    args = tuple(c.ArgDefinition(expand(a.name), None if a.default is None else expand(a.default)) for a in cmd.args)
    return replace(cmd, args=args)


def _heredocs(heredocs: tuple[Heredoc, ...], env: Mapping[str, str]) -> tuple[Heredoc, ...]:
    """Inline files: bodies with an unquoted delimiter expand, quotes kept (buildkit ExpandRaw)."""
    return tuple(
        Heredoc(h.name, shell.expand(h.data, env, "\\", quotes=False), True, False) if h.expand else h for h in heredocs
    )


def _copy(cmd: c.Copy | c.Add, expand: Expander, env: Mapping[str, str], escape: str):
    return replace(
        cmd,
        sources=tuple(expand(source) for source in cmd.sources),
        dest=expand(cmd.dest),
        chown=expand(cmd.chown),
        chmod=expand(cmd.chmod),
        heredocs=_heredocs(cmd.heredocs, env),
    )


def _expose(cmd: c.Expose, expand: Expander, env: Mapping[str, str], escape: str) -> c.Expose:
    ports = [port for word in cmd.ports for port in shell.expand_words(word, env, escape)]
    return replace(cmd, ports=tuple(ports))


def _user(cmd: c.User, expand: Expander, env: Mapping[str, str], escape: str) -> c.User:
    return replace(cmd, user=expand(cmd.user))


def _workdir(cmd: c.Workdir, expand: Expander, env: Mapping[str, str], escape: str) -> c.Workdir:
    return replace(cmd, path=expand(cmd.path))


def _stopsignal(cmd: c.StopSignal, expand: Expander, env: Mapping[str, str], escape: str):
    return replace(cmd, signal=expand(cmd.signal))


def _volume(cmd: c.Volume, expand: Expander, env: Mapping[str, str], escape: str) -> c.Volume:
    return replace(cmd, volumes=tuple(expand(volume) for volume in cmd.volumes))


RULES: dict[type, Callable] = {
    c.Env: _env,
    c.Label: _label,
    c.Arg: _arg,
    c.Copy: _copy,
    c.Add: _copy,
    c.Expose: _expose,
    c.User: _user,
    c.Workdir: _workdir,
    c.StopSignal: _stopsignal,
    c.Volume: _volume,
}

"""The Dockerfile parser table: source -> expected parse (or error naming the line).

A case without a FROM line gets `FROM scratch` put in front of it (so its errors are on
line 2 and later), and that FROM is left out of the expected dump; a case starting with
`!` is taken as it is (without the `!`). The dump shows each
instruction as `TYPE field=value ...` with only the fields that differ from their default;
commands read `sh:'...'` (shell form) or `exec:[...]` (JSON form), heredocs `<<NAME:'body'`.
"""

from dataclasses import fields

import pytest

from dockyard.build import parser
from dockyard.build.instructions import (
    ArgDefinition,
    CommandLine,
    Dockerfile,
    Heredoc,
    KeyValue,
    parse_dockerfile,
    parse_trigger,
    shell_script,
)
from dockyard.errors import DockerfileParseError

E = "error: dockerfile parse error line "

CASES = [
    # --- FROM
    ("from-plain", "FROM alpine", "FROM base='alpine'"),
    ("from-tag-digest", "FROM alpine:3.19@sha256:abc", "FROM base='alpine:3.19@sha256:abc'"),
    ("from-as", "FROM alpine AS build", "FROM base='alpine' name='build'"),
    ("from-as-lowercase", "from alpine as Build", "FROM base='alpine' name='build'"),
    ("from-platform", "FROM --platform=linux/arm64 alpine", "FROM base='alpine' platform='linux/arm64'"),
    (
        "from-platform-var",
        "FROM --platform=$BUILDPLATFORM alpine AS b",
        "FROM base='alpine' name='b' platform='$BUILDPLATFORM'",
    ),
    ("from-var", "ARG TAG=3\nFROM alpine:${TAG}", "ARG args=[TAG='3']\nFROM base='alpine:${TAG}'"),
    ("from-scratch", "FROM scratch", "FROM base='scratch'"),
    ("from-stage", "FROM alpine AS a\nFROM a", "FROM base='alpine' name='a'\nFROM base='a'"),
    ("from-two-args", "FROM alpine build", E + "1: FROM requires either one or three arguments"),
    ("from-no-args", "FROM", E + "1: FROM requires either one or three arguments"),
    (
        "from-bad-name",
        "FROM alpine AS 1st",
        E + '1: invalid name for build stage: "1st", name can\'t start with a number or contain symbols',
    ),
    (
        "from-bad-name-symbol",
        "FROM alpine AS a$b",
        E + '1: invalid name for build stage: "a$b", name can\'t start with a number or contain symbols',
    ),
    ("from-unknown-flag", "FROM --pull alpine", E + "1: unknown flag: --pull"),
    ("from-platform-no-value", "FROM --platform alpine", E + "1: missing a value on flag: --platform"),
    # --- RUN
    ("run-shell", "RUN echo hi", "RUN command=sh:'echo hi'"),
    ("run-exec", 'RUN ["echo", "hi"]', "RUN command=exec:['echo', 'hi']"),
    ("run-exec-spaces", '  RUN   [ "a b" ,"c" ]  ', "RUN command=exec:['a b', 'c']"),
    ("run-bad-json-is-shell", "RUN ['echo', 'x']", "RUN command=sh:\"['echo', 'x']\""),
    ("run-unterminated-json-is-shell", 'RUN ["echo"', "RUN command=sh:'[\"echo\"'"),
    (
        "run-json-non-string",
        'RUN ["echo", 1]',
        E + "2: when using JSON array syntax, arrays must be comprised of strings only",
    ),
    ("run-json-trailing", 'RUN ["a"] b', "RUN command=sh:'[\"a\"] b'"),
    ("run-lowercase", "run echo", "RUN command=sh:'echo'"),
    ("run-keeps-vars", "RUN echo $HOME ${X:-y}", "RUN command=sh:'echo $HOME ${X:-y}'"),
    ("run-keeps-quotes", "RUN echo \"a  b\" 'c'", "RUN command=sh:'echo \"a  b\" \\'c\\''"),
    ("run-empty", "RUN", "RUN command=sh:"),
    ("run-network-none", "RUN --network=none wget x", "RUN command=sh:'wget x' network='none'"),
    ("run-network-host", "RUN --network=host true", "RUN command=sh:'true' network='host'"),
    ("run-network-bad", "RUN --network=bridge true", E + '2: invalid network mode "bridge"'),
    (
        "run-mount-refused",
        "RUN --mount=type=cache,target=/root/.cache pip install x",
        E
        + "2: the --mount option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled",
    ),
    (
        "run-security-refused",
        "RUN --security=insecure true",
        E
        + "2: the --security option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled",
    ),
    ("run-unknown-flag", "RUN --foo=bar true", E + "2: unknown flag: --foo"),
    ("run-double-dash-ends-flags", "RUN -- --network=none", "RUN command=sh:'--network=none'"),
    ("run-single-dash-not-flag", "RUN -x", "RUN command=sh:'-x'"),
    ("run-duplicate-flag", "RUN --network=none --network=host true", E + "2: duplicate flag specified: --network"),
    # --- CMD / ENTRYPOINT
    ("cmd-shell", "CMD python app.py", "CMD command=sh:'python app.py'"),
    ("cmd-exec", 'CMD ["python", "app.py"]', "CMD command=exec:['python', 'app.py']"),
    ("cmd-empty-json", "CMD []", "CMD command=exec:[]"),
    ("cmd-json-escapes", 'CMD ["a\\"b", "\\u00e9", "\\t"]', "CMD command=exec:['a\"b', 'é', '\\t']"),
    ("cmd-unknown-flag", "CMD --x y", E + "2: unknown flag: --x"),
    ("entrypoint-exec", 'ENTRYPOINT ["python", "app.py"]', "ENTRYPOINT command=exec:['python', 'app.py']"),
    ("entrypoint-shell", "ENTRYPOINT exec top -b", "ENTRYPOINT command=sh:'exec top -b'"),
    ("entrypoint-empty", "ENTRYPOINT []", "ENTRYPOINT command=exec:[]"),
    # --- LABEL / ENV / MAINTAINER
    ("label-one", "LABEL a=b", "LABEL labels=[a='b']"),
    ("label-many", 'LABEL a=b "c d"="e f" g=', "LABEL labels=[a='b', \"c d\"='\"e f\"', g='']"),
    ("label-legacy", "LABEL version 1.0 beta", "LABEL labels=[version='1.0 beta']"),
    ("label-no-value", "LABEL a", E + "2: LABEL must have two arguments"),
    (
        "label-missing-equals",
        "LABEL a=b c",
        E + '2: Syntax error - can\'t find = in "c". Must be of the form: name=value',
    ),
    ("label-blank-name", "LABEL =b", E + "2: LABEL names can not be blank"),
    ("label-empty", "LABEL", E + "2: LABEL requires at least one argument"),
    ("env-equals", "ENV A=1 B=two", "ENV env=[A='1', B='two']"),
    ("env-legacy", "ENV PATH /usr/bin:$PATH", "ENV env=[PATH='/usr/bin:$PATH']"),
    ("env-legacy-spaces", "ENV MSG hello   world", "ENV env=[MSG='hello   world']"),
    ("env-quoted", "ENV A=\"x y\" B='z'", "ENV env=[A='\"x y\"', B=\"'z'\"]"),
    ("env-escaped-space", "ENV A=x\\ y", "ENV env=[A='x\\\\ y']"),
    ("env-value-with-equals", "ENV A=b=c", "ENV env=[A='b=c']"),
    ("env-one-word", "ENV A", E + "2: ENV must have two arguments"),
    ("env-empty", "ENV", E + "2: ENV requires at least one argument"),
    ("maintainer", "MAINTAINER Jane <jane@example.com>", "MAINTAINER maintainer='Jane <jane@example.com>'"),
    ("maintainer-empty", "MAINTAINER", E + "2: MAINTAINER requires exactly one argument"),
    # --- EXPOSE / USER / WORKDIR / VOLUME / STOPSIGNAL
    ("expose", "EXPOSE 80 443/tcp 53/udp", "EXPOSE ports=['443/tcp', '53/udp', '80']"),
    ("expose-var", "EXPOSE $PORT", "EXPOSE ports=['$PORT']"),
    ("expose-empty", "EXPOSE", E + "2: EXPOSE requires at least one argument"),
    ("user", "USER app:app", "USER user='app:app'"),
    ("user-empty", "USER", E + "2: USER requires exactly one argument"),
    ("workdir", "WORKDIR /app", "WORKDIR path='/app'"),
    ("workdir-spaces-kept", "WORKDIR /my app", "WORKDIR path='/my app'"),
    ("workdir-empty", "WORKDIR", E + "2: WORKDIR requires exactly one argument"),
    ("volume-words", "VOLUME /data /logs", "VOLUME volumes=['/data', '/logs']"),
    ("volume-json", 'VOLUME ["/data", "/my logs"]', "VOLUME volumes=['/data', '/my logs']"),
    ("volume-empty-string", 'VOLUME [""]', E + "2: VOLUME specified can not be an empty string"),
    ("volume-empty", "VOLUME []", E + "2: VOLUME requires at least one argument"),
    ("stopsignal", "STOPSIGNAL SIGTERM", "STOPSIGNAL signal='SIGTERM'"),
    ("stopsignal-empty", "STOPSIGNAL", E + "2: STOPSIGNAL requires exactly one argument"),
    # --- COPY / ADD
    ("copy", "COPY a b /dst/", "COPY sources=['a', 'b'] dest='/dst/'"),
    ("copy-json", 'COPY ["my file", "/dst/"]', "COPY sources=['my file'] dest='/dst/'"),
    ("copy-quotes-not-special", 'COPY "a b" /x', "COPY sources=['\"a', 'b\"'] dest='/x'"),
    ("copy-glob", "COPY *.py src/ /app/", "COPY sources=['*.py', 'src/'] dest='/app/'"),
    ("copy-from", "COPY --from=build /out /out", "COPY sources=['/out'] dest='/out' from_='build'"),
    ("copy-from-index", "COPY --from=0 /a /b", "COPY sources=['/a'] dest='/b' from_='0'"),
    (
        "copy-chown-chmod",
        "COPY --chown=app:app --chmod=0755 run.sh /bin/",
        "COPY sources=['run.sh'] dest='/bin/' chown='app:app' chmod='0755'",
    ),
    ("copy-link", "COPY --link . /app", "COPY sources=['.'] dest='/app' link=True"),
    ("copy-link-false", "COPY --link=false . /app", "COPY sources=['.'] dest='/app'"),
    ("copy-link-bad", "COPY --link=maybe . /app", E + "2: expecting boolean value for flag --link, not: maybe"),
    ("copy-link-empty", "COPY --link= . /app", E + "2: missing a value on flag: --link"),
    ("copy-flag-quoted", 'COPY --chown="a b" x /y', "COPY sources=['x'] dest='/y' chown='a b'"),
    (
        "copy-parents-refused",
        "COPY --parents a /b",
        E
        + "2: the --parents option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled",
    ),
    (
        "copy-exclude-refused",
        "COPY --exclude=*.md . /b",
        E
        + "2: the --exclude option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled",
    ),
    (
        "copy-one-arg",
        "COPY a",
        E + "2: COPY requires at least two arguments, but only one was provided. Destination could not be determined",
    ),
    ("copy-heredoc-dest", "COPY a <<EOF\nx\nEOF", E + "2: COPY cannot accept a heredoc as a destination"),
    ("add", "ADD https://example.com/x.tgz /opt/", "ADD sources=['https://example.com/x.tgz'] dest='/opt/'"),
    ("add-chown", "ADD --chown=1000 app.tar /srv", "ADD sources=['app.tar'] dest='/srv' chown='1000'"),
    ("add-from-unknown", "ADD --from=a x /y", E + "2: unknown flag: --from"),
    (
        "add-keep-git-dir-refused",
        "ADD --keep-git-dir=true git@x:y /src",
        E
        + "2: the --keep-git-dir option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled",
    ),
    (
        "add-checksum-refused",
        "ADD --checksum=sha256:0 https://x /y",
        E
        + "2: the --checksum option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled",
    ),
    (
        "add-one-arg",
        "ADD x",
        E + "2: ADD requires at least two arguments, but only one was provided. Destination could not be determined",
    ),
    # --- ARG
    ("arg", "ARG VERSION", "ARG args=[VERSION]"),
    ("arg-default", "ARG VERSION=1.2", "ARG args=[VERSION='1.2']"),
    ("arg-empty-default", "ARG V=", "ARG args=[V='']"),
    ("arg-several", "ARG A=1 B", "ARG args=[A='1', B]"),
    ("arg-quoted", 'ARG A="x y"', "ARG args=[A='\"x y\"']"),
    ("arg-blank-name", "ARG =x", E + "2: ARG names can not be blank"),
    ("arg-empty", "ARG", E + "2: ARG requires at least one argument"),
    ("arg-global-and-stage", "ARG A=1\nFROM x\nARG A", "ARG args=[A='1']\nFROM base='x'\nARG args=[A]"),
    # --- ONBUILD
    ("onbuild", "ONBUILD RUN make", "ONBUILD expression='RUN make'"),
    ("onbuild-copy", "ONBUILD COPY . /src", "ONBUILD expression='COPY . /src'"),
    ("onbuild-onbuild", "ONBUILD ONBUILD RUN x", E + "2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
    ("onbuild-from", "ONBUILD FROM x", E + "2: FROM isn't allowed as an ONBUILD trigger"),
    ("onbuild-maintainer", "ONBUILD MAINTAINER x", E + "2: MAINTAINER isn't allowed as an ONBUILD trigger"),
    ("onbuild-empty", "ONBUILD", E + "2: ONBUILD requires at least one argument"),
    ("onbuild-heredoc", "ONBUILD RUN <<EOF\necho hi\nEOF", "ONBUILD expression='RUN <<EOF\\necho hi\\nEOF'"),
    # --- HEALTHCHECK
    (
        "health-cmd-shell",
        "HEALTHCHECK CMD curl -f http://localhost/",
        "HEALTHCHECK test=['CMD-SHELL', 'curl -f http://localhost/']",
    ),
    ("health-cmd-exec", 'HEALTHCHECK CMD ["curl", "-f", "x"]', "HEALTHCHECK test=['CMD', 'curl', '-f', 'x']"),
    ("health-none", "HEALTHCHECK NONE", "HEALTHCHECK test=['NONE']"),
    ("health-none-args", "HEALTHCHECK NONE x", E + "2: HEALTHCHECK NONE takes no arguments"),
    (
        "health-options",
        "HEALTHCHECK --interval=30s --timeout=1m30s --start-period=1.5s --start-interval=500ms --retries=3 CMD true",
        "HEALTHCHECK test=['CMD-SHELL', 'true'] interval=30000000000 timeout=90000000000 start_period=1500000000 start_interval=500000000 retries=3",
    ),
    ("health-zero-interval", "HEALTHCHECK --interval=0s CMD true", "HEALTHCHECK test=['CMD-SHELL', 'true']"),
    (
        "health-short-interval",
        "HEALTHCHECK --interval=1us CMD true",
        E + '2: Interval "interval" cannot be less than 1ms',
    ),
    ("health-bad-duration", "HEALTHCHECK --timeout=5 CMD true", E + '2: time: invalid duration "5"'),
    ("health-negative-retries", "HEALTHCHECK --retries=-1 CMD true", E + "2: --retries cannot be negative (-1)"),
    ("health-bad-retries", "HEALTHCHECK --retries=x CMD true", E + '2: strconv.ParseInt: parsing "x": invalid syntax'),
    ("health-unknown-type", "HEALTHCHECK CONNECT tcp", E + '2: Unknown type "CONNECT" in HEALTHCHECK (try CMD)'),
    ("health-missing-cmd", "HEALTHCHECK CMD", E + "2: Missing command after HEALTHCHECK CMD"),
    ("health-unknown-flag", "HEALTHCHECK --foo=1 CMD true", E + "2: unknown flag: --foo"),
    # --- SHELL
    ("shell", 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]', "SHELL shell=['/bin/bash', '-o', 'pipefail', '-c']"),
    ("shell-not-json", "SHELL /bin/bash -c", E + "2: SHELL requires the arguments to be in JSON form"),
    ("shell-empty", "SHELL []", E + "2: SHELL requires at least one argument"),
    # --- comments, blanks, continuations
    ("comment-and-blank", "# a comment\n\nFROM a\n  # indented comment\nRUN x", "FROM base='a'\nRUN command=sh:'x'"),
    (
        "continuation",
        "RUN apt-get update && \\\n    apt-get install -y curl",
        "RUN command=sh:'apt-get update &&     apt-get install -y curl'",
    ),
    ("continuation-trailing-blanks", "RUN a \\  \n b", "RUN command=sh:'a  b'"),
    ("continuation-comment-inside", "RUN a \\\n# skipped\n b", "RUN command=sh:'a  b'"),
    ("continuation-empty-line", "RUN a \\\n\n b", "RUN command=sh:'a  b'"),
    ("continuation-at-eof", "RUN a \\", "RUN command=sh:'a'"),
    ("continuation-escaped-backslash", "RUN echo a\\\\\nRUN b", "RUN command=sh:'echo a\\\\\\\\'\nRUN command=sh:'b'"),
    ("continuation-in-json", 'CMD ["a", \\\n "b"]', "CMD command=exec:['a', 'b']"),
    ("continuation-env", "ENV A=1 \\\n    B=2", "ENV env=[A='1', B='2']"),
    ("continuation-lone-backslash", "RUN a \\\n\\\n b", "RUN command=sh:'a  b'"),
    ("crlf", "FROM a\r\nRUN x\r\n", "FROM base='a'\nRUN command=sh:'x'"),
    ("bom", "!\ufeffFROM a", "FROM base='a'"),
    ("hash-in-instruction", "RUN echo # not a comment", "RUN command=sh:'echo # not a comment'"),
    # --- parser directives
    (
        "directive-escape-backtick",
        "# escape=`\nFROM a\nRUN dir c:\\ `\n  /w",
        "directives={'escape': '`'}\nFROM base='a'\nRUN command=sh:'dir c:\\\\   /w'",
    ),
    ("directive-escape-backslash", "# escape=\\\nFROM a", "directives={'escape': '\\\\'}\nFROM base='a'"),
    (
        "directive-syntax",
        "# syntax=docker/dockerfile:1.7\nFROM a",
        "directives={'syntax': 'docker/dockerfile:1.7'}\nFROM base='a'",
    ),
    (
        "directive-both",
        "# syntax=docker/dockerfile:1\n# escape=`\nFROM a",
        "directives={'syntax': 'docker/dockerfile:1', 'escape': '`'}\nFROM base='a'",
    ),
    ("directive-case-spaces", "#  ESCAPE = `\nFROM a", "directives={'escape': '`'}\nFROM base='a'"),
    (
        "directive-after-comment",
        "# hello\n# escape=`\nFROM a\nRUN a \\\nRUN b",
        "FROM base='a'\nRUN command=sh:'a RUN b'",
    ),
    ("directive-after-blank", "\n# escape=`\nFROM a", "FROM base='a'"),
    ("directive-after-instruction", "FROM a\n# escape=`\nRUN x \\\n y", "FROM base='a'\nRUN command=sh:'x  y'"),
    ("directive-unknown-ends", "# foo=bar\n# escape=`\nFROM a", "FROM base='a'"),
    ("directive-duplicate", "# escape=`\n# escape=\\\nFROM a", E + "2: only one escape parser directive can be used"),
    ("directive-bad-escape", "# escape=x\nFROM a", E + "1: invalid escape token 'x' does not match ` or \\"),
    (
        "backtick-escape-in-env",
        "# escape=`\nFROM a\nENV P=C:\\dir",
        "directives={'escape': '`'}\nFROM base='a'\nENV env=[P='C:\\\\dir']",
    ),
    # --- heredocs
    ("heredoc-run", "RUN <<EOF\necho hi\nEOF", "RUN command=sh:'<<EOF'+[<<EOF:'echo hi\\n']"),
    (
        "heredoc-run-with-command",
        "RUN python3 <<EOF\nprint(1)\nEOF",
        "RUN command=sh:'python3 <<EOF'+[<<EOF:'print(1)\\n']",
    ),
    ("heredoc-chomp", "RUN <<-EOF\n\techo hi\n\tEOF", "RUN command=sh:'<<-EOF'+[<<EOF-:'\\techo hi\\n']"),
    ("heredoc-quoted", "RUN <<'EOF'\necho $HOME\nEOF", "RUN command=sh:\"<<'EOF'\"+[<<EOF(raw):'echo $HOME\\n']"),
    ("heredoc-double-quoted", 'RUN <<"EOF"\nx\nEOF', "RUN command=sh:'<<\"EOF\"'+[<<EOF(raw):'x\\n']"),
    (
        "heredoc-two",
        "RUN cat <<A && cat <<B\na\nA\nb\nB",
        "RUN command=sh:'cat <<A && cat <<B'+[<<A:'a\\n', <<B:'b\\n']",
    ),
    ("heredoc-empty", "RUN <<EOF\nEOF", "RUN command=sh:'<<EOF'+[<<EOF:'']"),
    ("heredoc-fd", "RUN 3<<EOF cat /dev/fd/3\nx\nEOF", "RUN command=sh:'3<<EOF cat /dev/fd/3'+[<<EOF:'x\\n']"),
    ("heredoc-space-after-marker", "RUN << EOF\nx\nEOF", "RUN command=sh:'<< EOF'+[<<EOF:'x\\n']"),
    (
        "heredoc-keeps-comments-and-blanks",
        "RUN <<EOF\n# kept\n\nx \\\nEOF",
        "RUN command=sh:'<<EOF'+[<<EOF:'# kept\\n\\nx \\\\\\n']",
    ),
    ("heredoc-unterminated", "RUN <<EOF\necho", E + "2: unterminated heredoc"),
    ("heredoc-in-quotes-ignored", 'RUN echo "<<EOF"', "RUN command=sh:'echo \"<<EOF\"'"),
    ("heredoc-json-ignored", 'RUN ["<<EOF"]', "RUN command=exec:['<<EOF']"),
    ("heredoc-not-for-user", "USER <<EOF", "USER user='<<EOF'"),
    (
        "heredoc-copy",
        "COPY <<EOF /etc/motd\nhello\nEOF",
        "COPY sources=[] dest='/etc/motd' heredocs=[<<EOF:'hello\\n']",
    ),
    (
        "heredoc-copy-two",
        "COPY <<a.txt <<b.txt /d/\nA\na.txt\nB\nb.txt",
        "COPY sources=[] dest='/d/' heredocs=[<<a.txt:'A\\n', <<b.txt:'B\\n']",
    ),
    ("heredoc-copy-mixed", "COPY file <<EOF /d/\nx\nEOF", "COPY sources=['file'] dest='/d/' heredocs=[<<EOF:'x\\n']"),
    ("heredoc-add-quoted", "ADD <<'EOF' /f\n$X\nEOF", "ADD sources=[] dest='/f' heredocs=[<<EOF(raw):'$X\\n']"),
    (
        "heredoc-then-instruction",
        "RUN <<EOF\nx\nEOF\nRUN y",
        "RUN command=sh:'<<EOF'+[<<EOF:'x\\n']\nRUN command=sh:'y'",
    ),
    # --- structure and errors that name the line
    ("unknown-instruction", "FROM a\nRUN x\nFOO bar", E + "3: unknown instruction: FOO"),
    ("unknown-instruction-lowercase", "FROM a\nfoo", E + "2: unknown instruction: FOO"),
    ("unknown-after-continuation", "FROM a\nRUN a \\\n b\nBAD", E + "4: unknown instruction: BAD"),
    ("missing-from", "!RUN x", "error: dockerfile parse error line 1: no build stage in current context"),
    (
        "missing-from-after-arg",
        "!ARG A\nENV B=1",
        "error: dockerfile parse error line 2: no build stage in current context",
    ),
    ("empty-file", "!", "error: file with no instructions"),
    ("only-comments", "!# syntax=x\n# hello\n\n", "error: file with no instructions"),
    (
        "multi-stage",
        "FROM golang AS build\nRUN go build\nFROM alpine\nCOPY --from=build /app /app",
        "FROM base='golang' name='build'\nRUN command=sh:'go build'\nFROM base='alpine'\nCOPY sources=['/app'] dest='/app' from_='build'",
    ),
]


def render(value) -> str:
    if isinstance(value, CommandLine):
        form = f"sh:{value.args[0]!r}" if value.prepend_shell and value.args else "sh:"
        if not value.prepend_shell:
            form = f"exec:{list(value.args)!r}"
        return form + (f"+{render(value.heredocs)}" if value.heredocs else "")
    if isinstance(value, Heredoc):
        marks = ("-" if value.chomp else "") + ("" if value.expand else "(raw)")
        return f"<<{value.name}{marks}:{value.content!r}"
    if isinstance(value, KeyValue):
        return f"{value.key}={value.value!r}"
    if isinstance(value, ArgDefinition):
        return value.name if value.default is None else f"{value.name}={value.default!r}"
    if isinstance(value, tuple) and value and not isinstance(value[0], str):
        return "[" + ", ".join(render(item) for item in value) + "]"
    if isinstance(value, tuple):
        return repr(list(value))
    return repr(value)


def dump_instruction(instruction) -> str:
    parts = [type(instruction).__name__.upper()]
    for field in fields(instruction):
        value = getattr(instruction, field.name)
        if field.name in ("line", "original") or value == field.default:
            continue
        parts.append(f"{field.name}={render(value)}")
    return " ".join(parts)


def dump(dockerfile: Dockerfile) -> list[str]:
    lines = [f"directives={dockerfile.directives}"] if dockerfile.directives else []
    lines += [dump_instruction(arg) for arg in dockerfile.global_args]
    for stage in dockerfile.stages:
        lines.append(dump_instruction(stage.from_))
        lines += [dump_instruction(instruction) for instruction in stage.instructions]
    return lines


def has_from(source: str) -> bool:
    return any(line.strip().lower().startswith("from") for line in source.splitlines())


def run_case(source: str) -> str:
    prefixed = not source.startswith("!") and not has_from(source)
    text = "FROM scratch\n" + source if prefixed else source.removeprefix("!")
    try:
        lines = dump(parse_dockerfile(text))
    except DockerfileParseError as exc:
        return f"error: {exc}"
    if prefixed:
        lines.remove("FROM base='scratch'")
    return "\n".join(lines)


@pytest.mark.parametrize("source,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_parse_table(source, expected):
    assert run_case(source) == expected


def test_table_size_and_unique_names():
    assert len(CASES) >= 100
    assert len({case[0] for case in CASES}) == len(CASES)


def test_nodes_carry_their_first_and_last_line():
    text = "# c\nFROM a\n\nRUN x \\\n  y\nCOPY <<EOF /f\nbody\nEOF\nCMD z\n"
    spans = [(n.instruction, n.start_line, n.end_line) for n in parser.parse(text).nodes]
    assert spans == [("FROM", 2, 2), ("RUN", 4, 5), ("COPY", 6, 8), ("CMD", 9, 9)]
    stage = parse_dockerfile(text).stages[0]
    assert [(i.line, i.original) for i in stage.instructions] == [
        (4, "RUN x   y"),
        (6, "COPY <<EOF /f"),
        (9, "CMD z"),
    ]


def test_onbuild_trigger_parses_later_with_its_heredoc():
    (onbuild,) = parse_dockerfile("FROM a\nONBUILD RUN <<EOF\necho hi\nEOF\n").stages[0].instructions
    trigger = parse_trigger(onbuild.expression)
    assert trigger.command.heredocs[0].content == "echo hi\n"
    assert shell_script(trigger.command) == "echo hi\n"
    with pytest.raises(DockerfileParseError, match="unknown instruction: BOGUS"):
        parse_trigger("BOGUS x")

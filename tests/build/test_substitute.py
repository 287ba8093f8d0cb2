"""Which instruction fields Docker substitutes, and with which values."""

from dockyard.build.instructions import ArgDefinition, KeyValue, parse_dockerfile
from dockyard.build.substitute import substitute, substitute_from

ENV = {"APP": "/srv/app", "USER_ID": "1000", "PORTS": "80 443", "SIG": "SIGINT", "V": "3"}


def stage_instructions(body: str, escape_directive: str = ""):
    return parse_dockerfile(escape_directive + "FROM scratch\n" + body).stages[0].instructions


def substituted(line: str):
    (instruction,) = stage_instructions(line)
    return substitute(instruction, ENV)


def test_env_and_label_keys_and_values_lose_quotes():
    env = substituted('ENV HOME_DIR=$APP "MSG"="a  b" LEGACY_SEEN=${UNSET:-d}')
    assert env.env == (
        KeyValue("HOME_DIR", "/srv/app"),
        KeyValue("MSG", "a  b"),
        KeyValue("LEGACY_SEEN", "d"),
    )
    assert substituted("LABEL dir=$APP").labels == (KeyValue("dir", "/srv/app"),)
    assert substituted("ENV P $APP/bin").env == (KeyValue("P", "/srv/app/bin"),)


def test_copy_and_add_expand_paths_and_ownership_not_from():
    copy = substituted("COPY --from=$V --chown=$USER_ID:$USER_ID --chmod=0$V$V$V src/ $APP/")
    assert (copy.sources, copy.dest, copy.chown, copy.chmod, copy.from_) == (
        ("src/",),
        "/srv/app/",
        "1000:1000",
        "0333",
        "$V",
    )
    add = substituted("ADD ${APP}.tar /")
    assert add.sources == ("/srv/app.tar",)


def test_copy_heredoc_bodies_expand_unless_the_delimiter_is_quoted():
    first, second = stage_instructions("COPY <<EOF /a\n\"$APP\" 'x'\nEOF\nCOPY <<'EOF' /b\n$APP\nEOF")
    assert substitute(first, ENV).heredocs[0].content == "\"/srv/app\" 'x'\n"
    assert substitute(second, ENV).heredocs[0].content == "$APP\n"


def test_expose_splits_words_and_single_value_fields_expand():
    assert substituted("EXPOSE $PORTS 9000/udp").ports == ("80", "443", "9000/udp")
    assert substituted("USER $USER_ID").user == "1000"
    assert substituted("WORKDIR $APP/src").path == "/srv/app/src"
    assert substituted("STOPSIGNAL $SIG").signal == "SIGINT"
    assert substituted("VOLUME $APP/data /logs").volumes == ("/srv/app/data", "/logs")
    assert substituted("ARG A=$APP B").args == (ArgDefinition("A", "/srv/app"), ArgDefinition("B"))


def test_commands_are_left_to_the_shell():
    for line in (
        "RUN echo $APP",
        'CMD ["echo", "$APP"]',
        "ENTRYPOINT echo $APP",
        "HEALTHCHECK CMD echo $APP",
        "ONBUILD RUN echo $APP",
        "MAINTAINER $APP",
        'SHELL ["$APP"]',
    ):
        (instruction,) = stage_instructions(line)
        assert substitute(instruction, ENV) is instruction


def test_from_uses_global_args_and_the_escape_character():
    dockerfile = parse_dockerfile("ARG V=3.12\nFROM --platform=$P python:${V}-slim AS b\n")
    from_ = substitute_from(dockerfile.stages[0].from_, {"V": "3.12", "P": "linux/amd64"})
    assert (from_.base, from_.platform, from_.name) == ("python:3.12-slim", "linux/amd64", "b")
    (workdir,) = stage_instructions("WORKDIR C:\\$V`$V", "# escape=`\n")
    assert substitute(workdir, ENV, "`").path == "C:\\3$V"

"""Word expansion: the table in expansion.txt, word splitting, and the error wording."""

import pathlib

import pytest

from dockyard.build import shell
from dockyard.errors import InvalidArgument

ENV = {
    "HOME": "/root",
    "NAME": "world",
    "EMPTY": "",
    "SPACED": "a  b",
    "PATHV": "/usr/local/bin",
    "FILE": "archive.tar.gz",
}


def table():
    escape, rows = "\\", []
    path = pathlib.Path(__file__).with_name("expansion.txt")
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.startswith("# escape="):
            escape = line.removeprefix("# escape=")
            continue
        if line.startswith("#") or not line.strip():
            continue
        source, _, expected = line.rpartition("|")
        rows.append(pytest.param(source.strip(), expected.strip(), escape, id=f"L{number}"))
    return rows


@pytest.mark.parametrize("source,expected,escape", table())
def test_expansion_table(source, expected, escape):
    if expected == "error":
        with pytest.raises(InvalidArgument):
            shell.expand(source, ENV, escape)
    else:
        assert shell.expand(source, ENV, escape) == expected


def test_table_is_large():
    assert len(table()) >= 90


@pytest.mark.parametrize(
    "source,expected",
    [
        ("80 443", ["80", "443"]),
        ("$SPACED", ["a", "b"]),
        ('"$SPACED"', ["a  b"]),
        ("x${SPACED}y", ["xa", "by"]),
        ("'a b' c", ["a b", "c"]),
        ("a\\ b c", ["a b", "c"]),
        ("$UNSET", []),
        ('""', []),
        ("  lead   trail  ", ["lead", "trail"]),
    ],
)
def test_expand_words_splits_on_blanks_outside_quotes(source, expected):
    assert shell.expand_words(source, ENV) == expected


def test_error_names_the_word_and_the_reason():
    with pytest.raises(InvalidArgument) as caught:
        shell.expand("${NAME", ENV)
    assert str(caught.value) == "failed to process \"${NAME\": syntax error: missing '}'"
    with pytest.raises(InvalidArgument, match="UNSET: must be set"):
        shell.expand("${UNSET?must be set}", ENV)
    with pytest.raises(InvalidArgument, match=r"unsupported modifier \(:0\) in substitution"):
        shell.expand("${NAME:0:1}", ENV)


def test_quotes_kept_for_heredoc_bodies():
    body = "echo \"$NAME\" '$HOME'\n"
    assert shell.expand(body, ENV, quotes=False) == "echo \"world\" '/root'\n"

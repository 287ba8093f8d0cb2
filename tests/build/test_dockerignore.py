"""`.dockerignore` reading and matching, with Docker's ignorefile/patternmatcher rules."""

import pytest

from dockyard.build import dockerignore
from dockyard.errors import InvalidArgument

IGNORE = """
# comment
*.log
/secret
build/**
!build/keep.txt
**/node_modules
docs
!docs/README.md
a?c
[xy].tmp
**/*.pyc
cache/
 # not a comment: leading blank
./dist/../out
tmp**
\\*literal
"""

CASES = [
    ("app.log", True),
    ("sub/app.log", False),
    ("secret", True),
    ("secret/inner", True),
    ("sub/secret", False),
    ("build", False),
    ("build/out/bin", True),
    ("build/keep.txt", False),
    ("node_modules", True),
    ("node_modules/x", True),
    ("web/node_modules/y/z", True),
    ("docs", True),
    ("docs/guide.md", True),
    ("docs/README.md", False),
    ("abc", True),
    ("abbc", False),
    ("a/c", False),
    ("x.tmp", True),
    ("z.tmp", False),
    ("mod.pyc", True),
    ("pkg/sub/mod.pyc", True),
    ("cache", True),
    ("cache/blob", True),
    ("out/file", True),
    ("dist/file", False),
    ("tmpfile", True),
    ("tmp/deep/file", True),
    ("*literal", True),
    ("xliteral", False),
    ("src/main.py", False),
    ("Dockerfile", False),
    ("# not a comment: leading blank", True),
]


@pytest.mark.parametrize("path,expected", CASES)
def test_matching_table(path, expected):
    assert dockerignore.excluded(path, dockerignore.parse(IGNORE)) is expected


def test_read_cleans_patterns_as_docker():
    text = "\ufeff#c\n  /a/b/  \n! /c\n./d/../e\n/\n.\n\n!keep\n"
    assert dockerignore.read(text) == ["a/b", "!c", "e", "/", ".", "!keep"]


def test_last_matching_pattern_wins():
    patterns = dockerignore.parse("*\n!keep\nkeep/drop\n")
    assert dockerignore.excluded("other", patterns)
    assert not dockerignore.excluded("keep", patterns)
    assert not dockerignore.excluded("keep/file", patterns)
    assert dockerignore.excluded("keep/drop", patterns)


def test_exception_inside_excluded_directory():
    patterns = dockerignore.parse("vendor\n!vendor/licenses\n")
    assert dockerignore.excluded("vendor/lib.go", patterns)
    assert not dockerignore.excluded("vendor/licenses", patterns)


def test_lone_bang_is_refused():
    with pytest.raises(InvalidArgument, match='illegal exclusion pattern: "!"'):
        dockerignore.parse("!\n")


def test_client_always_sends_dockerfile_and_dockerignore():
    patterns = dockerignore.client_patterns("*\n", "build/Dockerfile.dev")
    assert not dockerignore.excluded(".dockerignore", patterns)
    assert not dockerignore.excluded("build/Dockerfile.dev", patterns)
    assert dockerignore.excluded("app.py", patterns)


def test_daemon_removes_the_build_files_the_patterns_exclude():
    assert dockerignore.files_to_remove("Dockerfile\n.dockerignore\n", "Dockerfile") == [
        ".dockerignore",
        "Dockerfile",
    ]
    assert dockerignore.files_to_remove("*.log\n", "Dockerfile") == []
    assert dockerignore.files_to_remove("*\n!app\n", "ci/Dockerfile") == [
        ".dockerignore",
        "ci/Dockerfile",
    ]

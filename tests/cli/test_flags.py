"""The CLI's flag grammar (cli/flags.py): docker's pflag rules and messages, without argparse."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dockyard.cli.flags import REMAINDER, MissingArguments, Parser, UsageError, boolean, multi


def run_like() -> Parser:
    parser = Parser("dockyard run", "[OPTIONS] IMAGE [COMMAND] [ARG...]")
    boolean(parser, "-i", "--interactive")
    boolean(parser, "-t", "--tty")
    boolean(parser, "-d", "--detach")
    boolean(parser, "--sig-proxy", default=True)
    multi(parser, "-p", "--publish")
    multi(parser, "-e", "--env")
    parser.add_argument("--name")
    parser.add_argument("-c", "--cpu-shares", type=int)
    parser.add_argument("--pull", default="missing", choices=("always", "missing", "never"))
    parser.add_argument("image")
    parser.add_argument("command", nargs=REMAINDER)
    return parser


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["busybox"], {"image": "busybox", "command": [], "tty": False, "publish": [], "sig_proxy": True}),
        (["-it", "busybox", "sh"], {"interactive": True, "tty": True, "command": ["sh"]}),
        (["-dit", "busybox"], {"detach": True, "interactive": True, "tty": True}),
        (["-dp", "80:80", "busybox"], {"detach": True, "publish": ["80:80"]}),
        (
            ["-p80:80", "-p=81:81", "--publish", "82:82", "--publish=83:83", "b"],
            {"publish": ["80:80", "81:81", "82:82", "83:83"]},
        ),
        (["--name", "x", "b"], {"name": "x"}),
        (["--name=x=y", "b"], {"name": "x=y"}),
        (["--sig-proxy=false", "b"], {"sig_proxy": False}),
        (["--tty=true", "-d=false", "b"], {"tty": True, "detach": False}),
        (["-c", "512", "b"], {"cpu_shares": 512}),
        (["-c", "-5", "b"], {"cpu_shares": -5}),
        (["b", "ls", "-la", "--name", "y"], {"image": "b", "command": ["ls", "-la", "--name", "y"], "name": None}),
        (["b", "--", "x"], {"command": ["--", "x"]}),
        (["--", "b", "-x"], {"image": "b", "command": ["-x"]}),
        (["-e", "A=1", "-e", "B", "b"], {"env": ["A=1", "B"]}),
        (["--pull", "never", "b"], {"pull": "never"}),
    ],
)
def test_run_grammar(argv, expected):
    ns = run_like().parse(argv)
    assert {key: getattr(ns, key) for key in expected} == expected


@pytest.mark.parametrize(
    ("argv", "message", "code"),
    [
        (["--bogus", "b"], "unknown flag: --bogus", 125),
        (["-x", "b"], "unknown shorthand flag: 'x' in -x", 125),
        (["-itx", "b"], "unknown shorthand flag: 'x' in -itx", 125),
        (["b", "--name"], None, None),  # after the image: the command's, not a flag
        (["--name"], "flag needs an argument: --name", 125),
        (["-c"], "flag needs an argument: 'c' in -c", 125),
        (["--rm"], "unknown flag: --rm", 125),
        (["--tty=maybe", "b"], 'invalid argument "maybe" for "--tty" flag: strconv.ParseBool', 125),
        (["-c", "lots", "b"], 'invalid argument "lots" for "-c, --cpu-shares" flag: strconv.ParseInt', 125),
        (["--pull", "sometimes", "b"], 'invalid argument "sometimes" for "--pull" flag: must be one of "always"', 125),
        ([], '"dockyard run" requires at least 1 argument.', 1),
        (["-d"], '"dockyard run" requires at least 1 argument.', 1),
    ],
)
def test_run_errors(argv, message, code):
    if message is None:
        assert run_like().parse(argv).command == ["--name"]
        return
    with pytest.raises(UsageError) as caught:
        run_like().parse(argv)
    assert str(caught.value).startswith(message)
    assert caught.value.exit_code == code
    assert isinstance(caught.value, MissingArguments) == (code == 1)


def test_flags_anywhere_among_positionals_and_nargs():
    parser = Parser("dockyard rm", "[OPTIONS] CONTAINER [CONTAINER...]")
    boolean(parser, "-f", "--force")
    parser.add_argument("containers", nargs="+")
    ns = parser.parse(["a", "-f", "b"])
    assert (ns.containers, ns.force) == (["a", "b"], True)
    assert parser.parse(["-", "-1"]).containers == ["-", "-1"]  # stdin and negative numbers are arguments

    optional = Parser("dockyard x", "SRC [DEST]")
    optional.add_argument("src")
    optional.add_argument("dest", nargs="?", default="latest")
    assert (optional.parse(["a"]).dest, optional.parse(["a", "b"]).dest) == ("latest", "b")
    with pytest.raises(UsageError, match="unknown flag: c"):
        optional.parse(["a", "b", "c"])

    none = Parser("dockyard ps", "[OPTIONS]", "List containers")
    with pytest.raises(MissingArguments) as caught:  # docker's cli.NoArgs: exit 1, with the usage
        none.parse(["extra"])
    assert str(caught.value) == (
        "\"dockyard ps\" accepts no arguments.\nSee 'dockyard ps --help'.\n\nUsage:  dockyard ps [OPTIONS]\n\nList containers"
    )


def test_list_defaults_are_not_shared_between_parses():
    parser = run_like()
    assert parser.parse(["-p", "1:1", "b"]).publish == ["1:1"]
    assert parser.parse(["b"]).publish == []


def test_help_prints_usage_and_flags_and_exits_zero():
    code = "from tests.cli.test_flags import run_like; run_like().parse(['--help'])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert lines[0] == "Usage:  dockyard run [OPTIONS] IMAGE [COMMAND] [ARG...]"
    assert any(line.split() == ["-p,", "--publish", "list"] for line in lines)
    assert any(line.split()[:3] == ["-c,", "--cpu-shares", "int"] for line in lines)


def test_the_cli_imports_no_argparse():
    code = "import sys; from dockyard.cli import main; from dockyard.cli.commands import run, exec, ps; print('argparse' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"

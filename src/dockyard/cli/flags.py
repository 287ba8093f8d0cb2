"""argparse tuned to docker's conventions: `--help` only (`-h` is run's hostname), exit 125 on bad flags."""

from __future__ import annotations

import argparse
import os
import sys
from functools import cache

from dockyard.errors import InvalidArgument


class UsageError(InvalidArgument):
    """Bad flags (docker exits 125) or an unusable invocation (exit 1 where docker does)."""

    exit_code = 125

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class MissingArguments(UsageError):
    """Too few arguments; docker exits 1 for these."""

    exit_code = 1


@cache
def terminal_columns() -> int:
    """shutil.get_terminal_size().columns without importing shutil (3 ms of compression modules)."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return 80


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, sized without shutil: argparse builds one per add_argument call."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=terminal_columns() - 2)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors read like docker's and raise instead of exiting 2."""

    def __init__(self, prog: str, usage: str, description: str = "") -> None:
        super().__init__(
            prog=prog, usage=f"{prog} {usage}", description=description, add_help=False, formatter_class=HelpFormatter
        )
        self.add_argument("--help", action="help", help="Print usage")

    def error(self, message: str) -> None:
        if message.startswith("the following arguments are required"):
            raise MissingArguments(
                f"\"{self.prog}\" requires at least 1 argument.\nSee '{self.prog} --help'.\n\nUsage:  {self.usage}"
            )
        if message.startswith("unrecognized arguments:"):
            message = "unknown flag: " + message.split(":", 1)[1].strip()
        raise UsageError(f"{message}\nSee '{self.prog} --help'.")

    def parse(self, argv: list[str]) -> argparse.Namespace:
        """Parse like docker: boolean flags also take `--flag=true|false`, up to the first positional."""
        argv, overrides = self._explicit_bools(argv)
        ns = self.parse_args(argv)
        for dest, value in overrides.items():
            setattr(ns, dest, value)
        return ns

    def _explicit_bools(self, argv: list[str]) -> tuple[list[str], dict[str, bool]]:
        out, overrides = [], {}
        for index, arg in enumerate(argv):
            if arg == "--" or not arg.startswith("-"):
                if self._takes_value(argv[index - 1] if index else ""):
                    out.append(arg)
                    continue
                return out + argv[index:], overrides
            name, sep, value = arg.partition("=")
            action = self._option_string_actions.get(name)
            if sep and action is not None and action.nargs == 0 and action.const is True:
                if value.lower() not in ("true", "false", "1", "0", "t", "f"):
                    self.error(
                        f'invalid argument "{value}" for "{name}" flag: strconv.ParseBool: parsing "{value}": invalid syntax'
                    )
                overrides[action.dest] = value.lower() in ("true", "1", "t")
                continue
            out.append(arg)
        return out, overrides

    def _takes_value(self, arg: str) -> bool:
        action = self._option_string_actions.get(arg)
        return action is not None and action.nargs is None


def boolean(parser: argparse.ArgumentParser, *names: str, default: bool = False, help: str = "") -> None:
    """A docker bool flag: `--x` sets it, `--x=false` clears it (see Parser.parse)."""
    parser.add_argument(*names, action="store_const", const=True, default=default, help=help)


def multi(parser: argparse.ArgumentParser, *names: str, help: str = "", **kwargs) -> None:
    """A repeatable flag collecting into a list (docker's list/map options)."""
    parser.add_argument(*names, action="append", default=[], help=help, **kwargs)

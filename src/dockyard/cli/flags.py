"""Docker's flag grammar (the CLI's pflag rules), without argparse.

`--name value`, `--name=value`, shorthands bundled (`-it`, `-dp 80:80`, `-p80:80`), boolean
flags that also take `--flag=true|false`, flags anywhere among the arguments until `--` or a
REMAINDER positional (`run IMAGE COMMAND...`: what follows the image is the command's), and
docker's messages with exit 125. argparse is not used: its own import (with `gettext` and
`locale`) cost every command 2-4 ms here once json has loaded `re`, and its grammar is not
docker's (decisions/0007-cli.md).
"""

from __future__ import annotations

import sys

from dockyard.errors import InvalidArgument

REMAINDER = "..."  # a positional taking every argument from its first on, flags included
_BOOLS = {"true": True, "1": True, "t": True, "false": False, "0": False, "f": False}


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


class Namespace:
    """The parsed flags and arguments, one attribute each."""

    def __init__(self, **values: object) -> None:
        self.__dict__.update(values)

    def __repr__(self) -> str:
        return f"Namespace({', '.join(f'{k}={v!r}' for k, v in self.__dict__.items())})"


class Argument:
    """One flag or positional and how it stores what it is given."""

    __slots__ = ("names", "dest", "action", "nargs", "type", "default", "const", "choices", "help")

    def __init__(self, names: tuple[str, ...], dest: str, action: str, **spec: object) -> None:
        self.names, self.dest, self.action = names, dest, action
        for field in ("nargs", "type", "default", "const", "choices"):
            setattr(self, field, spec.get(field))
        self.help = spec.get("help") or ""

    @property
    def takes_value(self) -> bool:
        return self.action in ("store", "append")

    @property
    def label(self) -> str:
        """How docker names the flag in a message: `-n, --last` or `--name`."""
        return ", ".join(self.names)


class Parser:
    """A command's flags and positionals; errors read like docker's and raise UsageError."""

    def __init__(self, prog: str, usage: str, description: str = "") -> None:
        self.prog, self.usage, self.description = prog, f"{prog} {usage}", description
        self._flags: dict[str, Argument] = {}
        self._arguments: list[Argument] = []  # flags and positionals, in the order added
        self.add_argument("--help", action="help", help="Print usage")

    def add_argument(self, *names: str, action: str = "store", dest: str | None = None, **spec: object) -> None:
        """Declare a flag (`-x`, `--long`) or a positional, with argparse's keywords that the CLI uses:
        action (store, store_true, store_const, append, help), nargs, type, default, const, choices, help."""
        if not names[0].startswith("-"):
            self._arguments.append(Argument(names, names[0], "positional", **spec))
            return
        longs = [name for name in names if name.startswith("--")]
        dest = dest or (longs[0] if longs else names[0]).lstrip("-").replace("-", "_")
        if action == "store_true":
            action, spec = "store_const", {"const": True, "default": False, **spec}
        argument = Argument(names, dest, action, **spec)
        self._arguments.append(argument)
        for name in names:
            self._flags[name] = argument

    def parse(self, argv: list[str]) -> Namespace:
        """The namespace for `argv`, or UsageError (`--help` prints the usage and exits 0)."""
        values = {a.dest: _fresh(a.default) for a in self._arguments if a.action != "positional"}
        slots = [a for a in self._arguments if a.action == "positional"]
        rest_at = next((i for i, a in enumerate(slots) if a.nargs == REMAINDER), None)
        words: list[str] = []
        index = 0
        while index < len(argv):
            arg = argv[index]
            if rest_at is not None and len(words) == rest_at:
                words.extend(argv[index:])
                break
            if arg == "--":
                words.extend(argv[index + 1 :])
                break
            if not _is_flag(arg):
                words.append(arg)
            elif arg.startswith("--"):
                index = self._long(arg, argv, index, values)
            else:
                index = self._shorthands(arg, argv, index, values)
            index += 1
        values.update(self._positionals(slots, words))
        return Namespace(**values)

    def _long(self, arg: str, argv: list[str], index: int, values: dict) -> int:
        name, sep, value = arg.partition("=")
        argument = self._flags.get(name)
        if argument is None:
            self.error(f"unknown flag: {name}")
        if sep or not argument.takes_value:
            self._store(argument, name, value if sep else None, values)
            return index
        if index + 1 >= len(argv):
            self.error(f"flag needs an argument: {name}")
        self._store(argument, name, argv[index + 1], values)
        return index + 1

    def _shorthands(self, arg: str, argv: list[str], index: int, values: dict) -> int:
        for at in range(1, len(arg)):
            argument = self._flags.get("-" + arg[at])
            if argument is None:
                self.error(f"unknown shorthand flag: '{arg[at]}' in {arg}")
            attached = arg[at + 1 :]
            if not argument.takes_value:
                if attached.startswith("="):
                    self._store(argument, "-" + arg[at], attached[1:], values)
                    return index
                self._store(argument, "-" + arg[at], None, values)
                continue
            if attached:
                self._store(argument, "-" + arg[at], attached.removeprefix("="), values)
                return index
            if index + 1 >= len(argv):
                self.error(f"flag needs an argument: '{arg[at]}' in {arg}")
            self._store(argument, "-" + arg[at], argv[index + 1], values)
            return index + 1
        return index

    def _store(self, argument: Argument, name: str, value: str | None, values: dict) -> None:
        if argument.action == "help":
            sys.stdout.write(self.format_help())
            raise SystemExit(0)
        if argument.action == "store_const":
            values[argument.dest] = argument.const if value is None else self._boolean(name, value)
            return
        if argument.choices is not None and value not in argument.choices:
            wanted = ", ".join(f'"{choice}"' for choice in argument.choices)
            self.error(f'invalid argument "{value}" for "{argument.label}" flag: must be one of {wanted}')
        converted = self._converted(argument, value)
        if argument.action == "append":
            values[argument.dest] = [*(values[argument.dest] or []), converted]
        else:
            values[argument.dest] = converted

    def _converted(self, argument: Argument, value: str) -> object:
        if argument.type is None:
            return value
        try:
            return argument.type(value)
        except (TypeError, ValueError):
            parse = {int: "strconv.ParseInt", float: "strconv.ParseFloat"}.get(argument.type)
            detail = f'{parse}: parsing "{value}": invalid syntax' if parse else "invalid value"
            self.error(f'invalid argument "{value}" for "{argument.label}" flag: {detail}')

    def _boolean(self, name: str, value: str) -> bool:
        if value.lower() not in _BOOLS:
            self.error(
                f'invalid argument "{value}" for "{name}" flag: strconv.ParseBool: parsing "{value}": invalid syntax'
            )
        return _BOOLS[value.lower()]

    def _positionals(self, slots: list[Argument], words: list[str]) -> dict[str, object]:
        needed = [1 if a.nargs in (None, "+") else 0 for a in slots]
        if len(words) < sum(needed):
            raise MissingArguments(
                f"\"{self.prog}\" requires at least 1 argument.\nSee '{self.prog} --help'.\n\nUsage:  {self.usage}"
            )
        values: dict[str, object] = {}
        at = 0
        for position, argument in enumerate(slots):
            spare = len(words) - at - sum(needed[position + 1 :])
            if argument.nargs is None:
                values[argument.dest], at = words[at], at + 1
            elif argument.nargs == "?":
                taken = words[at] if spare > 0 else argument.default
                values[argument.dest], at = taken, at + (spare > 0)
            else:  # +, * and REMAINDER take what the later slots can spare
                values[argument.dest], at = words[at : at + spare], at + spare
        if at < len(words):
            if not slots:  # docker's cli.NoArgs: exit 1, with the usage
                raise MissingArguments(
                    f"\"{self.prog}\" accepts no arguments.\nSee '{self.prog} --help'.\n\n"
                    f"Usage:  {self.usage}\n\n{self.description}".rstrip()
                )
            self.error(f"unknown flag: {' '.join(words[at:])}")
        return values

    def error(self, message: str) -> None:
        """Raise docker's usage error for `message`."""
        raise UsageError(f"{message}\nSee '{self.prog} --help'.")

    def format_help(self) -> str:
        """Docker's help page: usage, description, and the flags with their help."""
        flags = [a for a in self._arguments if a.action != "positional"]
        labels = [_flag_label(a) for a in flags]
        width = max(map(len, labels)) + 3
        lines = [f"Usage:  {self.usage}", ""]
        if self.description:
            lines += [self.description, ""]
        lines.append("Options:")
        lines += [f"  {label:<{width}}{a.help}".rstrip() for label, a in zip(labels, flags, strict=True)]
        return "\n".join(lines) + "\n"


def _is_flag(arg: str) -> bool:
    """A flag or shorthand bundle, not `-` (stdin) or a negative number."""
    return arg.startswith("-") and len(arg) > 1 and not arg[1].isdigit()


def _fresh(default: object) -> object:
    """A list default copied, so repeated parses never share it."""
    return list(default) if isinstance(default, list) else default


def _flag_label(argument: Argument) -> str:
    short = next((n for n in argument.names if not n.startswith("--")), None)
    longs = ", ".join(n for n in argument.names if n.startswith("--"))
    text = f"-{short[1:]}, {longs}" if short and longs else (short or "    " + longs)
    kind = {int: "int", float: "decimal"}.get(argument.type, "string") if argument.takes_value else ""
    return f"{text} {'list' if argument.action == 'append' else kind}".rstrip()


def boolean(parser: Parser, *names: str, default: bool = False, help: str = "") -> None:
    """A docker bool flag: `--x` sets it, `--x=false` clears it."""
    parser.add_argument(*names, action="store_const", const=True, default=default, help=help)


def multi(parser: Parser, *names: str, help: str = "", **kwargs: object) -> None:
    """A repeatable flag collecting into a list (docker's list/map options)."""
    parser.add_argument(*names, action="append", default=[], help=help, **kwargs)

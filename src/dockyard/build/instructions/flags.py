"""Builder flags of one instruction (`--from=stage`, `--link`) (pure)."""

from __future__ import annotations

from collections.abc import Iterable

BUILDKIT_ONLY = (
    "the --{} option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ "
    "to learn how to build images with BuildKit enabled"
)


def parse_flags(
    flags: Iterable[str],
    strings: Iterable[str] = (),
    bools: Iterable[str] = (),
    refused: Iterable[str] = (),
) -> dict[str, str | bool]:
    """Read `--name=value` and `--name[=true|false]` flags as buildkit's BFlags does.

    Only the flags given are returned; `refused` names are known to Docker but need
    BuildKit, and raise with Docker's words.

    Raises:
        ValueError: unknown, duplicate, valueless or refused flag.
    """
    strings, bools, refused = set(strings), set(bools), set(refused)
    found: dict[str, str | bool] = {}
    for flag in flags:
        if flag == "--":
            break
        if not flag.startswith("--"):
            raise ValueError(f"arg should start with -- : {flag}")
        spelled, has_value, value = flag.partition("=")
        name = spelled[2:]
        if name in refused:
            raise ValueError(BUILDKIT_ONLY.format(name))
        if name not in strings and name not in bools:
            raise ValueError(f"unknown flag: {spelled}")
        if name in found:
            raise ValueError(f"duplicate flag specified: {spelled}")
        found[name] = _bool(spelled, has_value, value) if name in bools else value
        if name in strings and not has_value:
            raise ValueError(f"missing a value on flag: {spelled}")
    return found


def _bool(spelled: str, has_value: str, value: str) -> bool:
    if has_value and value == "":
        raise ValueError(f"missing a value on flag: {spelled}")
    if value.lower() in ("true", ""):
        return True
    if value.lower() == "false":
        return False
    raise ValueError(f"expecting boolean value for flag {spelled}, not: {value}")

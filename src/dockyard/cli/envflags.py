"""`-e` and `--env-file` as the docker CLI reads them (shared by create/run and exec)."""

from __future__ import annotations


def read_env_files(paths: list[str]) -> list[str]:
    """The text of each --env-file, in order."""
    texts = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            texts.append(handle.read())
    return texts


def parse_env(values: list[str], environ: dict[str, str], env_files: list[str]) -> list[str]:
    """Env-file lines first, then -e; a bare NAME takes its value from the environment."""
    result: list[str] = []
    for text in env_files:
        for line in text.splitlines():
            line = line.lstrip()
            if not line or line.startswith("#"):
                continue
            if "=" in line:
                result.append(line)
            elif line in environ:
                result.append(f"{line}={environ[line]}")
    for value in values:
        if "=" not in value and value in environ:
            value = f"{value}={environ[value]}"
        result.append(value)
    return result

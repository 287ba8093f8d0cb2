"""The pieces of the classic builder's message stream, and the failure that carries a code."""

from __future__ import annotations

from collections.abc import Generator

from dockyard.errors import DockyardError

PROXY_ARGS = frozenset(
    ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy")
    + ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy")
)  # build args every RUN sees without an ARG, and that never enter the cache key or history


class StepFailed(DockyardError):
    """A step that ran and failed (a RUN's non-zero exit): reported with its code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def out(text: str) -> dict:
    """One `stream` message: text `docker build` prints as it is."""
    return {"stream": text}


def done(value: str) -> Generator[dict, None, str]:
    """A step's producer with nothing to say: its result at once."""
    return value
    yield  # makes this a generator

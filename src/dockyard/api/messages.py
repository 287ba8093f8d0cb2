"""What a handler receives and what it returns; the server turns these into bytes.

Request          a decoded request: path params, query, headers, a body reader
Response         a complete body (JSON, text, or nothing)
StreamResponse   a chunked body produced while the handler's iterator runs
HijackResponse   the connection is handed to an AttachStream (attach, exec start)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

from dockyard.api import query
from dockyard.api.routing import at_least
from dockyard.errors import InvalidArgument

if TYPE_CHECKING:
    from dockyard.api.backend import AttachStream

JSON = "application/json"
TAR = "application/x-tar"
RAW_STREAM = "application/vnd.docker.raw-stream"
MULTIPLEXED_STREAM = "application/vnd.docker.multiplexed-stream"


@dataclass(frozen=True, slots=True)
class Request:
    """One request after routing; `path` has no version prefix, header names are lower case."""

    method: str
    path: str
    api_version: str
    params: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, list[str]] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: BinaryIO | None = None
    client_gone: Callable[[], bool] = lambda: False  # for long waits: stop once nobody listens

    def arg(self, key: str, default: str | None = None) -> str | None:
        """The first query value of `key`."""
        return query.text(self.query, key, default)

    def args(self, key: str) -> list[str]:
        """Every query value of `key` (e.g. repeated `changes=`)."""
        return list(self.query.get(key, []))

    def flag(self, key: str, default: bool = False) -> bool:
        """A query boolean, parsed as dockerd does."""
        return query.boolean(self.query, key, default)

    def number(self, key: str, default: int | None = None) -> int | None:
        """A query integer."""
        return query.integer(self.query, key, default)

    def timestamp(self, key: str) -> float | None:
        """A query Unix timestamp."""
        return query.timestamp(self.query, key)

    def filters(self, accepted: frozenset[str] | None = None) -> dict[str, list[str]]:
        """The `filters` query parameter as {name: [values]}; with `accepted`, other names are a 400."""
        return query.filters(self.query, accepted)

    def auth(self) -> dict[str, Any] | None:
        """The decoded X-Registry-Auth header."""
        return query.registry_auth(self.headers.get("x-registry-auth"))

    def json(self) -> dict[str, Any] | None:
        """The JSON object in the body, or None for an empty body."""
        if self.body is None:
            return None
        value = query.json_body(self.body)
        if value is not None and not isinstance(value, dict):
            raise InvalidArgument("invalid JSON in request body: expected an object")
        return value


@dataclass(frozen=True, slots=True)
class Response:
    """A response whose body is known in full."""

    status: int = 200
    body: bytes = b""
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class StreamResponse:
    """A chunked response. With `prime`, the first chunk is produced before the headers are
    sent, so an error raised up front still gets its own status (dockerd's "not flushed yet").
    With `single`, the body is one chunk, sent with the body's end in one write (as Go's
    server does): a client that closes once it has read it finds the body complete."""

    chunks: Iterator[bytes]
    content_type: str = JSON
    status: int = 200
    prime: bool = True
    headers: tuple[tuple[str, str], ...] = ()
    single: bool = False


@dataclass(frozen=True, slots=True)
class HijackResponse:
    """Take over the connection: send the upgrade headers, then splice it both ways with the
    stream `open()` returns. `open` runs only once the headers are out, so a process it starts
    (an attached exec) cannot send output that the client's HTTP parser reads with them."""

    tty: bool
    open: Callable[[], AttachStream]
    detach_keys: bytes = b""  # on a TTY, these in the client's input end the splice

    @classmethod
    def of(cls, stream: AttachStream, detach_keys: bytes = b"") -> HijackResponse:
        """For a stream that is already open (attach)."""
        return cls(stream.tty, lambda: stream, detach_keys)


def json_response(value: object, status: int = 200) -> Response:
    """Encode `value` as a JSON response, newline-terminated as Go's encoder writes it."""
    return Response(status, json.dumps(value).encode() + b"\n", JSON)


def no_content() -> Response:
    """The 204 most state-changing routes answer."""
    return Response(204)


def stream_type(tty: bool, api_version: str) -> str:
    """The Content-Type of attach/logs output: multiplexed without a TTY since API 1.42."""
    return MULTIPLEXED_STREAM if not tty and at_least(api_version, "1.42") else RAW_STREAM

"""HTTP/1.1 request heads and response heads, as pure functions over bytes.

    head_end(buffer)      where the request head ends (after CRLF CRLF), or -1
    parse_head(bytes)     request line and header fields -> Head, or HeadError
    response_head(...)    status line and header fields -> bytes

Strict where laxness lets a request be read two ways (RFC 9112 section 11.2, request
smuggling): a field line with whitespace before its colon, obsolete line folding, both
Content-Length and Transfer-Encoding, or differing Content-Length values are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus

MAX_HEAD = 64 * 1024
MAX_FIELDS = 256
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VERSION = re.compile(rb"HTTP/1\.[01]")
REASONS = {101: "UPGRADED"}
_FRAMING = frozenset({"content-length", "transfer-encoding"})


class HeadError(Exception):
    """A request head that cannot be served; `status` is the answer (400, 431, 501, 505)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Head:
    """A parsed request head; header names are lower case (the last of repeated fields wins)."""

    method: str
    target: str
    version: str
    headers: dict[str, str]

    @property
    def keep_alive(self) -> bool:
        """Whether the connection may serve another request after this one (RFC 9112 9.3)."""
        tokens = {t.strip().lower() for t in self.headers.get("connection", "").split(",")}
        if self.version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens

    @property
    def chunked(self) -> bool:
        return "transfer-encoding" in self.headers

    @property
    def content_length(self) -> int:
        return int(self.headers.get("content-length", "0") or "0")


def head_end(buffer: bytes | bytearray, start: int = 0) -> int:
    """Return the offset just past the blank line ending the head, or -1 if it is not there yet."""
    found = buffer.find(b"\r\n\r\n", max(0, start - 3))
    return -1 if found < 0 else found + 4


def parse_head(data: bytes) -> Head:
    """Parse a request head (without the body).

    Raises HeadError naming what is wrong.
    """
    lines = data.split(b"\r\n")
    while lines and lines[-1] == b"":
        lines.pop()
    while lines and lines[0] == b"":  # RFC 9112 2.2: ignore blank lines before the request line
        lines.pop(0)
    if not lines:
        raise HeadError(400, "empty request")
    method, target, version = _request_line(lines[0])
    if len(lines) - 1 > MAX_FIELDS:
        raise HeadError(431, f"too many header fields (more than {MAX_FIELDS})")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, value = _field(line)
        if name in headers and name in _FRAMING:  # repeated framing fields must agree
            value = f"{headers[name]},{value}"
        headers[name] = value
    _check_framing(headers)
    return Head(method, target, version, headers)


def _request_line(line: bytes) -> tuple[str, str, str]:
    parts = line.split(b" ")
    if len(parts) != 3 or not _TOKEN.fullmatch(parts[0]) or not parts[1]:
        raise HeadError(400, f"malformed HTTP request line: {line[:80]!r}")
    method, target, version = parts
    if not _VERSION.fullmatch(version):
        raise HeadError(505, f"unsupported HTTP version: {version[:20]!r}")
    if not (target.startswith(b"/") or target == b"*") or any(b < 0x21 or b == 0x7F for b in target):
        raise HeadError(400, f"malformed request target: {target[:80]!r}")
    return method.decode("ascii"), target.decode("latin-1"), version.decode("ascii")


def _field(line: bytes) -> tuple[str, str]:
    name, colon, value = line.partition(b":")
    if not colon or not _TOKEN.fullmatch(name):
        raise HeadError(400, f"malformed header field: {line[:80]!r}")
    if b"\r" in value or b"\n" in value or b"\x00" in value:
        raise HeadError(400, f"invalid character in header field {name.decode()!r}")
    return name.decode("ascii").lower(), value.strip(b" \t").decode("latin-1")


def _check_framing(headers: dict[str, str]) -> None:
    encoding = headers.get("transfer-encoding")
    if encoding is not None:
        if "content-length" in headers:
            raise HeadError(400, "both Transfer-Encoding and Content-Length are set")
        if encoding.strip().lower() != "chunked":
            raise HeadError(501, f"unsupported transfer encoding: {encoding!r}")
    length = headers.get("content-length")
    if length is not None:
        values = {v.strip() for v in length.split(",")}
        if len(values) != 1 or not (value := values.pop()).isdigit() or len(value) > 18:
            raise HeadError(400, f"invalid Content-Length: {length!r}")
        headers["content-length"] = value


def response_head(status: int, headers: tuple[tuple[str, str], ...], reason: str | None = None) -> bytes:
    """Encode a status line and header fields, ended by the blank line."""
    if reason is None:
        reason = REASONS.get(status) or _phrase(status)
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class Clock:
    """The Date header, formatted once per second."""

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def date(self, now: float) -> str:
        second = int(now)
        if second != self._second:
            self._text = formatdate(second, usegmt=True)
            self._second = second
        return self._text

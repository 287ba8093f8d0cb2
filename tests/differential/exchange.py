"""One request over a unix socket, read to the end as raw bytes and decoded into an Answer.

Raw sockets rather than http.client because the corpus needs what clients see on the wire:
hijacked streams after `101 UPGRADED`, chunked bodies, multiplexed frames, header values.
"""

from __future__ import annotations

import base64
import json
import socket
import struct
import time
from dataclasses import dataclass, field

HEADERS = ("content-type", "docker-experimental", "api-version", "x-docker-container-path-stat")
RAW = "application/vnd.docker.raw-stream"
STREAMS = {0: "stdin", 1: "stdout", 2: "stderr", 3: "systemerr"}


@dataclass
class Answer:
    """What a client reads from one response: status, the headers clients use, a decoded body."""

    status: int
    headers: dict[str, str]
    body: object = None
    raw: bytes = field(default=b"", repr=False)
    seconds: float = 0.0


def send(
    host: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 15,
    stdin: bytes | None = None,
    idle: float | None = None,
) -> Answer:
    """Send one request with `Connection: close`, read until EOF (or `idle` seconds of silence
    once the head is in), and decode the answer. `stdin` is written after a hijack's head."""
    request = [f"{method} {path} HTTP/1.1", "Host: docker", "Connection: close"]
    for name, value in (headers or {}).items():
        request.append(f"{name}: {value}")
    if body is not None:
        request.append(f"Content-Length: {len(body)}")
    wire = ("\r\n".join(request) + "\r\n\r\n").encode() + (body or b"")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(host.removeprefix("unix://"))
        sock.sendall(wire)
        data = _read(sock, timeout, idle, stdin)
    return decode(method, data)


def _read(sock: socket.socket, timeout: float, idle: float | None, stdin: bytes | None) -> bytes:
    data, deadline, wrote = b"", time.monotonic() + timeout, False
    while time.monotonic() < deadline:
        head_done = b"\r\n\r\n" in data
        if head_done and stdin is not None and not wrote:
            sock.sendall(stdin)
            wrote = True
        sock.settimeout(idle if head_done and idle else max(0.1, deadline - time.monotonic()))
        try:
            piece = sock.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            return data + b"\r\n<connection reset>"
        if not piece:
            break
        data += piece
    return data


def decode(method: str, data: bytes) -> Answer:
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines[0].startswith("HTTP/") else 0
    all_headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        all_headers[name.strip().lower()] = value.strip()
    if "chunked" in all_headers.get("transfer-encoding", ""):
        rest = dechunk(rest)
    headers = {name: all_headers[name] for name in HEADERS if name in all_headers}
    if "x-docker-container-path-stat" in headers:
        headers["x-docker-container-path-stat"] = json.loads(base64.b64decode(headers["x-docker-container-path-stat"]))
    ctype = all_headers.get("content-type", "")
    return Answer(status, headers, None if method == "HEAD" else body_of(ctype, rest, status), rest)


def dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2 :]
    return out


def body_of(ctype: str, raw: bytes, status: int) -> object:
    """JSON (one document or newline-delimited), multiplexed frames, tar member names, or text."""
    if "json" in ctype:
        return _json(raw)
    if "multiplexed" in ctype or (status in (101, 200) and ctype in ("", RAW) and _looks_muxed(raw)):
        return {"frames": frames(raw)}
    if "x-tar" in ctype or raw[257:262] == b"ustar":
        return {"tar": tar_names(raw)}
    return raw.decode("utf-8", "replace")


def _json(raw: bytes) -> object:
    text = raw.decode("utf-8", "replace").strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    except ValueError:
        return {"not-json": text}


def _looks_muxed(raw: bytes) -> bool:
    return len(raw) >= 8 and raw[0] in STREAMS and raw[1:4] == b"\0\0\0"


def frames(raw: bytes) -> dict[str, str]:
    """Split the 8-byte-header framing and join each stream's payloads: how output is cut
    into frames, and how stdout and stderr interleave, is timing, not behaviour. A torn
    frame or an unknown stream byte shows up as its own key."""
    out: dict[str, str] = {}
    while raw:
        if len(raw) < 8:
            out["torn"] = raw.hex()
            break
        kind, size = raw[0], struct.unpack(">I", raw[4:8])[0]
        name = STREAMS.get(kind, f"bad-{kind}")
        out[name] = out.get(name, "") + raw[8 : 8 + size].decode("utf-8", "replace")
        raw = raw[8 + size :]
    return out


def tar_names(raw: bytes) -> list[str]:
    import io
    import tarfile

    try:
        with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
            return sorted(member.name.rstrip("/") for member in tar.getmembers())
    except tarfile.TarError as exc:
        return [f"<bad tar: {exc}>"]

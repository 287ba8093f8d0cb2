"""Stream framing: multiplex headers, JSON progress lines, chunked encoding and decoding."""

from __future__ import annotations

import io
import json

import pytest

from dockyard.api.streams import (
    LAST_CHUNK,
    ChunkedReader,
    LengthReader,
    chunk,
    error_message,
    json_line,
    json_lines,
    mux_frames,
    raw_frames,
)
from dockyard.errors import InvalidArgument
from dockyard.multiplex import encode_frame


def test_mux_frames_skip_empty_payloads_and_raw_drops_ids():
    pairs = [(1, b"out"), (2, b""), (2, b"err")]
    assert b"".join(mux_frames(iter(pairs))) == encode_frame(1, b"out") + encode_frame(2, b"err")
    assert b"".join(raw_frames(iter(pairs))) == b"outerr"


def test_json_line_is_one_compact_line():
    assert json_line({"status": "Pulling", "id": "latest"}) == b'{"status":"Pulling","id":"latest"}\n'


def test_json_lines_turn_a_mid_stream_error_into_an_error_message():
    def progress():
        yield {"status": "Downloading"}
        raise InvalidArgument("digest mismatch")

    lines = [json.loads(line) for line in json_lines(progress())]
    assert lines == [{"status": "Downloading"}, error_message("digest mismatch")]
    assert lines[1] == {"errorDetail": {"message": "digest mismatch"}, "error": "digest mismatch"}


def test_json_lines_let_an_error_before_the_first_message_propagate():
    def progress():
        raise InvalidArgument("no such image")
        yield  # pragma: no cover

    with pytest.raises(InvalidArgument):
        list(json_lines(progress()))


def test_chunk_framing():
    assert chunk(b"hello") == b"5\r\nhello\r\n"
    assert chunk(b"x" * 26) == b"1a\r\n" + b"x" * 26 + b"\r\n"
    assert LAST_CHUNK == b"0\r\n\r\n"
    with pytest.raises(ValueError):
        chunk(b"")


def _chunked(*parts: bytes, trailer: bytes = b"") -> io.BytesIO:
    return io.BytesIO(b"".join(chunk(p) for p in parts) + b"0\r\n" + trailer + b"\r\n" + b"NEXT")


def test_chunked_reader_round_trips_in_small_reads():
    source = _chunked(b"hello ", b"chunked ", b"world")
    reader = ChunkedReader(source)
    out = b"".join(iter(lambda: reader.read(3), b""))
    assert out == b"hello chunked world"
    assert reader.done
    assert source.read() == b"NEXT"  # stops exactly at the end of the body


def test_chunked_reader_reads_all_and_skips_extensions_and_trailers():
    raw = b"5;ext=1\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n"
    assert ChunkedReader(io.BytesIO(raw)).read() == b"hello"


@pytest.mark.parametrize(
    "raw",
    [
        b"zz\r\nhello\r\n0\r\n\r\n",  # size not hex
        b"0x5\r\nhello\r\n0\r\n\r\n",  # no 0x prefix in HTTP
        b"-5\r\nhello\r\n0\r\n\r\n",  # negative
        b"5\r\nhelloXX0\r\n\r\n",  # missing CRLF after data
        b"a\r\nhello",  # truncated data
        b"5\r\nhello\r\n",  # no last chunk
    ],
)
def test_chunked_reader_rejects_malformed_bodies(raw):
    with pytest.raises(InvalidArgument, match="chunked request body"):
        ChunkedReader(io.BytesIO(raw)).read()


def test_length_reader_never_reads_past_the_body():
    source = io.BytesIO(b"bodyNEXT")
    reader = LengthReader(source, 4)
    assert reader.read(100) == b"body"
    assert reader.read() == b""
    assert reader.done and source.read() == b"NEXT"


def test_length_reader_reports_a_short_body():
    with pytest.raises(InvalidArgument, match="unexpected EOF"):
        LengthReader(io.BytesIO(b"ab"), 4).read()

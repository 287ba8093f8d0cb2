"""Stream framing: multiplex headers, JSON progress lines, chunked encoding and decoding."""

from __future__ import annotations

import io
import json

import pytest

from dockyard.api.streams import (
    LengthReader,
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


def test_length_reader_never_reads_past_the_body():
    source = io.BytesIO(b"bodyNEXT")
    reader = LengthReader(source, 4)
    assert reader.read(100) == b"body"
    assert reader.read() == b""
    assert reader.done and source.read() == b"NEXT"


def test_length_reader_reports_a_short_body():
    with pytest.raises(InvalidArgument, match="unexpected EOF"):
        LengthReader(io.BytesIO(b"ab"), 4).read()


def _exchange_writing_to(sent: list[bytes]):
    from types import SimpleNamespace

    from dockyard.api.exchange import Exchange
    from dockyard.api.http1 import parse_head

    conn = SimpleNamespace(send=lambda data, timeout: sent.append(bytes(data)))
    head = parse_head(b"POST /containers/web/wait HTTP/1.1\r\nHost: docker\r\n\r\n")
    return Exchange(conn, head, router=None, detach=lambda: None)


def test_a_single_chunk_body_goes_out_with_its_end_in_one_write():
    """As Go's server sends `wait`'s answer: `docker run --rm` closes once it has read it."""
    sent: list[bytes] = []
    _exchange_writing_to(sent)._write_chunks(b"", iter([b'{"StatusCode":0}\n']), chunked=True, single=True)
    assert sent == [b'11\r\n{"StatusCode":0}\n\r\n0\r\n\r\n']


def test_a_streamed_body_sends_each_chunk_as_it_comes():
    sent: list[bytes] = []
    _exchange_writing_to(sent)._write_chunks(b"a", iter([b"bc", b""]), chunked=True, single=False)
    assert sent == [b"1\r\na\r\n", b"2\r\nbc\r\n", b"0\r\n\r\n"]

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

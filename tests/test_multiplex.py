"""Pure tests of the 8-byte multiplexed stream framing."""

import pytest

from dockyard.multiplex import STDERR, STDOUT, FrameDecoder, encode_frame


def test_header_layout():
    assert encode_frame(STDOUT, b"hi\n") == b"\x01\x00\x00\x00\x00\x00\x00\x03hi\n"
    assert encode_frame(STDERR, b"x" * 300)[:8] == b"\x02\x00\x00\x00\x00\x00\x01\x2c"


def test_decoder_reassembles_split_frames():
    wire = encode_frame(STDOUT, b"hello") + encode_frame(STDERR, b"") + encode_frame(STDERR, b"oops")
    decoder = FrameDecoder()
    frames = []
    for i in range(len(wire)):
        frames += decoder.feed(wire[i : i + 1])
    assert frames == [(STDOUT, b"hello"), (STDERR, b""), (STDERR, b"oops")]
    assert decoder.pending == 0


def test_decoder_rejects_garbage():
    with pytest.raises(ValueError, match="Unrecognized input header: 7"):
        FrameDecoder().feed(b"\x07\x00\x00\x00\x00\x00\x00\x01x")


def test_header_is_stream_three_zeros_and_big_endian_size():
    assert encode_frame(1, b"hi") == b"\x01\x00\x00\x00\x00\x00\x00\x02hi"
    assert encode_frame(2, b"x" * 258)[:8] == b"\x02\x00\x00\x00\x00\x00\x01\x02"
    assert encode_frame(0, b"")[:8] == b"\x00" * 8


def test_unknown_streams_are_refused():
    with pytest.raises(ValueError):
        encode_frame(3, b"x")

"""Pure tests of the 8-byte multiplexed stream framing."""

import pytest

from dockyard.runtime.framing import STDERR, STDOUT, FrameDecoder, encode_frame


def test_header_layout():
    assert encode_frame(STDOUT, b"hi\n") == b"\x01\x00\x00\x00\x00\x00\x00\x03hi\n"
    assert encode_frame(STDERR, b"x" * 300)[:8] == b"\x02\x00\x00\x00\x00\x00\x01\x2c"


def test_decoder_reassembles_split_frames():
    wire = encode_frame(STDOUT, b"hello") + encode_frame(STDERR, b"") + encode_frame(STDERR, b"oops")
    decoder = FrameDecoder()
    frames = []
    for i in range(len(wire)):
        frames += decoder.feed(wire[i:i + 1])
    assert frames == [(STDOUT, b"hello"), (STDERR, b""), (STDERR, b"oops")]
    assert decoder.pending == 0


def test_decoder_rejects_garbage():
    with pytest.raises(ValueError, match="bad stream id"):
        FrameDecoder().feed(b"\x07\x00\x00\x00\x00\x00\x00\x01x")

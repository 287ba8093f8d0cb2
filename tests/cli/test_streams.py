"""Stream decoding: the 8-byte multiplexed frames, NDJSON lines, progress rendering, detach keys."""

import io
import os

import pytest

from dockyard.cli.hijack import Session
from dockyard.cli.progress import Display, StreamError, progress_bar, render_line
from dockyard.cli.streams import JSONLineDecoder
from dockyard.multiplex import STDERR, STDOUT, FrameDecoder, encode_frame


def test_frames_survive_any_slicing():
    data = encode_frame(STDOUT, b"hello\n") + encode_frame(STDERR, b"oops\n") + encode_frame(STDOUT, b"")
    for step in (1, 3, 7, len(data)):
        decoder = FrameDecoder()
        frames = []
        for start in range(0, len(data), step):
            frames += decoder.feed(data[start : start + step])
        assert frames == [(STDOUT, b"hello\n"), (STDERR, b"oops\n"), (STDOUT, b"")]
        assert decoder.pending == 0


def test_partial_frame_is_held_back():
    decoder = FrameDecoder()
    assert decoder.feed(encode_frame(STDOUT, b"abcdef")[:10]) == []
    assert decoder.pending == 10


def test_bad_stream_byte_is_rejected():
    with pytest.raises(ValueError, match="Unrecognized input header: 7"):
        FrameDecoder().feed(bytes([7, 0, 0, 0, 0, 0, 0, 1, 65]))


def test_large_frame_size_is_big_endian():
    payload = b"x" * 70000
    assert FrameDecoder().feed(encode_frame(STDOUT, payload)) == [(STDOUT, payload)]


def test_json_lines_across_chunks():
    decoder = JSONLineDecoder()
    assert decoder.feed(b'{"a": 1}\n{"b"') == [{"a": 1}]
    assert decoder.feed(b': 2}\n\n{"c": 3}') == [{"b": 2}]
    assert decoder.close() == [{"c": 3}]


def test_progress_bar():
    assert progress_bar({"current": 0, "total": 0}) == ""
    assert progress_bar({"current": 1500}) == "   1.5kB"
    bar = progress_bar({"current": 2_000_000, "total": 4_000_000})
    assert bar == "[" + "=" * 25 + ">" + " " * 25 + "]      2MB/4MB"
    assert progress_bar({"current": 9, "total": 9}).startswith("[" + "=" * 50 + ">] ")
    assert progress_bar({"current": 1, "total": 2}, width=80) == "      1B/2B"


def test_lines_off_a_terminal_skip_progress():
    assert (
        render_line({"status": "Pulling fs layer", "id": "abc", "progressDetail": {}}, tty=False)
        == "abc: Pulling fs layer"
    )
    assert (
        render_line({"status": "Downloading", "id": "abc", "progressDetail": {"current": 1, "total": 2}}, tty=False)
        is None
    )
    assert render_line({"status": "Digest: sha256:x"}, tty=False) == "Digest: sha256:x"


def test_error_in_stream_raises():
    with pytest.raises(StreamError, match="manifest unknown"):
        render_line({"errorDetail": {"message": "manifest unknown"}, "error": "manifest unknown"}, tty=False)


def test_terminal_display_rewrites_each_layer_line():
    out = io.StringIO()
    display = Display(out, tty=True)
    display.show({"status": "latest: Pulling from library/busybox"})
    display.show({"id": "l1", "status": "Pulling fs layer", "progressDetail": {}})
    display.show({"id": "l2", "status": "Pulling fs layer", "progressDetail": {}})
    display.show({"id": "l1", "status": "Downloading", "progressDetail": {"current": 1, "total": 2}})
    text = out.getvalue()
    assert text.startswith("latest: Pulling from library/busybox\n")
    assert "\x1b[2A\x1b[2K\rl1: Downloading [" in text and text.endswith("\r\x1b[2B")


def test_session_demultiplexes_to_two_fds(tmp_path):
    out_path, err_path = tmp_path / "out", tmp_path / "err"
    out_fd, err_fd = os.open(out_path, os.O_WRONLY | os.O_CREAT), os.open(err_path, os.O_WRONLY | os.O_CREAT)
    reader = io.BufferedReader(io.BytesIO(encode_frame(STDOUT, b"to out") + encode_frame(STDERR, b"to err")))
    try:
        assert Session(None, reader, tty=False, stdin=False, stdout_fd=out_fd, stderr_fd=err_fd).run() == "eof"
    finally:
        os.close(out_fd)
        os.close(err_fd)
    assert out_path.read_bytes() == b"to out" and err_path.read_bytes() == b"to err"

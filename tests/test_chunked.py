"""The one chunked transfer-coding codec, used by the API server and the CLI."""

import io

import pytest

from dockyard.chunked import LAST_CHUNK, ChunkedReader, chunk
from dockyard.errors import InvalidArgument


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


def test_the_reader_names_what_it_decodes():
    with pytest.raises(InvalidArgument, match="unexpected EOF in chunked response body"):
        ChunkedReader(io.BytesIO(b"5\r\nhel"), "response body").read()


class _Held(io.BytesIO):
    """A source that shows what it holds, as the API's Connection does."""

    def ahead(self) -> bytes:
        return self.getvalue()[self.tell() :]


def test_held_chunks_are_decoded_together_and_never_past_the_body():
    parts = [bytes([n]) * (n * 37 % 600 + 1) for n in range(200)]
    source = _Held(b"".join(chunk(p) for p in parts) + b"0\r\n\r\nNEXT")
    reader = ChunkedReader(source)
    first = reader.read(1 << 20)
    assert len(first) > len(parts[0])  # more than one chunk in one read
    rest = b"".join(iter(lambda: reader.read(1000), b""))
    assert first + rest == b"".join(parts)
    assert reader.done and source.read() == b"NEXT"


def test_a_read_of_held_chunks_never_returns_more_than_asked():
    source = _Held(b"".join(chunk(b"x" * 100) for _ in range(50)) + LAST_CHUNK)
    reader = ChunkedReader(source)
    sizes = [len(piece) for piece in iter(lambda: reader.read(250), b"")]
    assert max(sizes) <= 250 and sum(sizes) == 5000 and sizes[0] == 200


@pytest.mark.parametrize(
    "bad, message",
    [(b"zz\r\nhello\r\n", "bad chunk size"), (b"5\r\nhelloXX\r\n", "missing CRLF"), (b"5\r\nhel", "unexpected EOF")],
)
def test_a_bad_chunk_among_held_ones_fails_as_it_would_alone(bad, message):
    reader = ChunkedReader(_Held(chunk(b"a") + chunk(b"b") + bad))
    with pytest.raises(InvalidArgument, match=message):
        while reader.read(1 << 20):
            pass

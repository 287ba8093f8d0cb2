"""Pure decoder for the API's NDJSON streams (progress, events); frames are dockyard.multiplex."""

from __future__ import annotations

import json


class JSONLineDecoder:
    """Feed bytes; get back each complete JSON object (blank lines are skipped)."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[dict]:
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        return [json.loads(line) for line in lines if line.strip()]

    def close(self) -> list[dict]:
        """Decode whatever is left when the stream ends without a newline."""
        rest, self._buffer = self._buffer, b""
        return [json.loads(rest)] if rest.strip() else []

"""The distribution spec's error codes, their HTTP statuses, and the one error class that carries them.

    RegistryError(DockyardError)   .code (a spec code below), .detail, .status, .headers
      BLOB_UNKNOWN 404, BLOB_UPLOAD_INVALID 400, BLOB_UPLOAD_UNKNOWN 404, DIGEST_INVALID 400,
      MANIFEST_BLOB_UNKNOWN 400, MANIFEST_INVALID 400, MANIFEST_UNKNOWN 404, NAME_INVALID 400,
      NAME_UNKNOWN 404, SIZE_INVALID 400, UNAUTHORIZED 401, DENIED 403, UNSUPPORTED 405,
      TOOMANYREQUESTS 429, RANGE_INVALID 416, TOO_LARGE 413

The messages are distribution's (registry/api/errcode, registry/api/v2/errors.go) because
clients print them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from dockyard.errors import DockyardError


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """One spec error code: its name, HTTP status and default message."""

    code: str
    status: int
    message: str


BLOB_UNKNOWN = ErrorCode("BLOB_UNKNOWN", 404, "blob unknown to registry")
BLOB_UPLOAD_INVALID = ErrorCode("BLOB_UPLOAD_INVALID", 400, "blob upload invalid")
BLOB_UPLOAD_UNKNOWN = ErrorCode("BLOB_UPLOAD_UNKNOWN", 404, "blob upload unknown to registry")
DIGEST_INVALID = ErrorCode("DIGEST_INVALID", 400, "provided digest did not match uploaded content")
MANIFEST_BLOB_UNKNOWN = ErrorCode("MANIFEST_BLOB_UNKNOWN", 400, "blob unknown to registry")
MANIFEST_INVALID = ErrorCode("MANIFEST_INVALID", 400, "manifest invalid")
MANIFEST_UNKNOWN = ErrorCode("MANIFEST_UNKNOWN", 404, "manifest unknown")
NAME_INVALID = ErrorCode("NAME_INVALID", 400, "invalid repository name")
NAME_UNKNOWN = ErrorCode("NAME_UNKNOWN", 404, "repository name not known to registry")
SIZE_INVALID = ErrorCode("SIZE_INVALID", 400, "provided length did not match content length")
UNAUTHORIZED = ErrorCode("UNAUTHORIZED", 401, "authentication required")
DENIED = ErrorCode("DENIED", 403, "requested access to the resource is denied")
UNSUPPORTED = ErrorCode("UNSUPPORTED", 405, "The operation is unsupported.")
TOOMANYREQUESTS = ErrorCode("TOOMANYREQUESTS", 429, "too many requests")
RANGE_INVALID = ErrorCode("BLOB_UPLOAD_INVALID", 416, "requested range not satisfiable")
TOO_LARGE = ErrorCode("SIZE_INVALID", 413, "request entity too large")
UNAVAILABLE = ErrorCode("UNAVAILABLE", 503, "service unavailable")


class RegistryError(DockyardError):
    """An error the registry answers with a spec code; `detail` goes into the JSON body."""

    def __init__(
        self,
        code: ErrorCode,
        detail: object = None,
        message: str | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message or code.message)
        self.code = code
        self.detail = detail
        self.headers = headers or []

    @property
    def status(self) -> int:
        return self.code.status

    def body(self) -> bytes:
        """The `{"errors": [...]}` document clients parse."""
        entry: dict[str, object] = {"code": self.code.code, "message": str(self)}
        if self.detail is not None:
            entry["detail"] = self.detail
        return json.dumps({"errors": [entry]}).encode()

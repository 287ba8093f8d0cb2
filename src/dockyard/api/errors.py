"""The one table from dockyard.errors classes to HTTP statuses.

Looked up along the exception's MRO, so a subclass (NoSuchContainer) takes its parent's
status (NotFound, 404). Anything not raised on purpose is a 500 carrying its text, as
moby's `httpstatus.FromError` does for errors outside errdefs.
"""

from __future__ import annotations

from dockyard import errors

STATUSES: dict[type[BaseException], int] = {
    errors.NotFound: 404,
    errors.InvalidArgument: 400,
    errors.Conflict: 409,
    errors.NotModified: 304,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.Unavailable: 503,
    errors.NotSupported: 501,
    errors.RuntimeFailure: 500,
}

BODYLESS = frozenset({204, 304})


def status_for(exc: BaseException) -> int:
    """Return the HTTP status for an exception (500 when no class in its MRO is mapped)."""
    for cls in type(exc).__mro__:
        status = STATUSES.get(cls)
        if status is not None:
            return status
    return 500


def error_body(exc: BaseException) -> dict[str, str] | None:
    """Return the JSON body for an error, or None when its status carries no body (304)."""
    if status_for(exc) in BODYLESS:
        return None
    return {"message": str(exc) or type(exc).__name__}

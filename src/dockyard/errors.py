"""Errors raised on purpose, and nothing else.

    DockyardError
     ├── NotFound            404   NoSuchContainer, NoSuchImage, NoSuchExec, NoSuchNetwork, NoSuchVolume
     ├── InvalidArgument     400   (bad JSON, bad flags, bad references, hostile tars)
     ├── Conflict            409   (name in use, container running, image in use)
     ├── NotModified         304   (start of a started container, stop of a stopped one)
     ├── Unauthorized        401
     ├── Forbidden           403
     ├── Unavailable         503   (a registry or a shim that cannot be reached)
     ├── NotSupported        501   (schema1 manifests, unknown media types)
     └── RuntimeFailure      500   (the kernel refused; start failures carry the reason)
          └── NoSpace              (the data root's filesystem is full: ENOSPC, EDQUOT)

Only `api/errors.py` maps these classes to HTTP statuses; messages are Docker's
wording because clients match on them.
"""

from __future__ import annotations

import errno


class DockyardError(Exception):
    """Base of every error raised on purpose."""


class NotFound(DockyardError):
    """The thing named does not exist."""


class InvalidArgument(DockyardError):
    """The request itself is wrong."""


class Conflict(DockyardError):
    """The request clashes with the current state."""


class NotModified(DockyardError):
    """The request asks for the state that already holds."""


class Unauthorized(DockyardError):
    """Credentials are missing or wrong."""


class Forbidden(DockyardError):
    """Credentials are fine but the action is not allowed."""


class Unavailable(DockyardError):
    """A peer (registry, shim) cannot be reached right now."""


class AddressesExhausted(DockyardError):
    """A network's pools have no address left to hand out (moby answers a plain error: 500)."""

    def __init__(self, version: int, where: str) -> None:
        super().__init__(f"no available IPv{version} addresses on this network's address pools: {where}")
        self.version = version


class NotSupported(DockyardError):
    """A valid request for something dockyard does not do."""


class RuntimeFailure(DockyardError):
    """The runtime or the kernel refused to do what was asked."""


class NoSpace(RuntimeFailure):
    """A write under the data root found its filesystem full."""

    def __init__(self, path: object) -> None:
        super().__init__(f"write {path}: no space left on device")

    @staticmethod
    def translating(path: object) -> _TranslatingNoSpace:
        """Turn ENOSPC and EDQUOT raised in the block into NoSpace(path), Docker's wording."""
        return _TranslatingNoSpace(path)


class _TranslatingNoSpace:
    """NoSpace.translating's context manager (a class: contextlib costs every CLI command ~1 ms)."""

    def __init__(self, path: object) -> None:
        self._path = path

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise NoSpace(exc.filename or self._path) from None


class NoSuchContainer(NotFound):
    def __init__(self, ref: str) -> None:
        super().__init__(f"No such container: {ref}")


class NoSuchImage(NotFound):
    def __init__(self, ref: str) -> None:
        super().__init__(f"No such image: {ref}")


class NoSuchExec(NotFound):
    def __init__(self, ref: str) -> None:
        super().__init__(f"No such exec instance: {ref}")


class NoSuchNetwork(NotFound):
    def __init__(self, ref: str) -> None:
        super().__init__(f"network {ref} not found")


class NoSuchVolume(NotFound):
    def __init__(self, ref: str) -> None:
        super().__init__(f"get {ref}: no such volume")


class DockerfileParseError(InvalidArgument):
    """A Dockerfile that cannot be read, with the line at fault when one is known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.line = line
        super().__init__(f"dockerfile parse error line {line}: {message}" if line else message)

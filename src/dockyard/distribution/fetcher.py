"""Fetch blobs into the content store, in parallel, verified while streaming.

Each blob streams from the registry into a content-store writer that hashes as it writes;
a broken connection is retried, continuing with `Range: bytes=<offset>-` (a registry that
answers 200 instead has the bytes already written skipped). A fetch is all or nothing: when one blob fails,
the others are stopped and every blob this fetch published is deleted again (or handed to the
caller's `undo`, which knows what else may have taken them up meanwhile), so a failed pull
leaves nothing visible in the store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import Protocol

from dockyard.content.store import ContentStore, ContentWriter
from dockyard.distribution import progress as p
from dockyard.distribution.auth import repository_scope
from dockyard.distribution.client import Registries, RegistryClient, raise_for_status, try_endpoints
from dockyard.distribution.config import Endpoint
from dockyard.distribution.credentials import Credentials
from dockyard.distribution.resolver import VerificationFailed
from dockyard.distribution.transport import HandshakeFailed, Response
from dockyard.errors import DockyardError, InvalidArgument, NotFound, Unavailable
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.reference import Reference

CHUNK = 1 << 20
ATTEMPTS = 5
RETRY_DELAY = 0.2
REPORT_EVERY = 512 << 10


class Cancelled(DockyardError):
    """A download stopped because another blob of the same fetch failed."""


class BlobSink(Protocol):
    """Gets a blob's bytes as they download, e.g. to unpack a layer while it arrives.

    Lifecycle: write() in order from byte 0 (resumed downloads continue where they stopped);
    then close() once the blob is verified and published, or abort() when this attempt failed
    (a later attempt, from another endpoint, gets a fresh sink). Called on a worker thread.
    """

    def write(self, data: memoryview) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...


SinkFactory = Callable[[Descriptor], "BlobSink | None"]


class _Tee:
    """A content writer that also feeds a sink.

    A sink that fails stops being fed, but the download goes on: if the blob then fails its
    digest check, that is the error to report (the sink only choked on the bad bytes).
    """

    def __init__(self, writer: ContentWriter, sink: BlobSink) -> None:
        self.writer = writer
        self.sink = sink
        self.error: Exception | None = None

    @property
    def offset(self) -> int:
        return self.writer.offset

    def write(self, data: memoryview) -> None:
        self.writer.write(data)
        if self.error is None:
            try:
                self.sink.write(data)
            except Exception as exc:  # kept, and raised once the blob proved sound
                self.error = exc


class Fetcher:
    """Downloads blobs of one repository into a content store."""

    def __init__(self, registries: Registries) -> None:
        self.registries = registries

    def fetch(
        self,
        ref: Reference,
        descriptors: Sequence[Descriptor],
        store: ContentStore,
        progress: p.ProgressCallback = p.ignore,
        endpoint: Endpoint | None = None,
        credentials: Credentials | None = None,
        sinks: SinkFactory | None = None,
        undo: Callable[[list[Digest]], None] | None = None,
    ) -> list[Digest]:
        """Fetch every missing blob; return the digests this call published.

        `endpoint` is where the image was resolved (a ResolvedImage's): blobs come from there,
        and when that is a mirror, from the registry itself if the mirror fails. Without it,
        the registry's endpoints are tried in order for each blob. `sinks` gives, per blob, a
        BlobSink that sees the bytes as they arrive (None: just store it). When the fetch fails,
        `undo` gets the digests it published (default: they are deleted).

        Raises:
            VerificationFailed: a blob did not match its digest or size.
            NotFound, Unauthorized, Unavailable: as the registry answered.
        """
        wanted = list({d.digest: d for d in descriptors}.values())
        missing = [d for d in wanted if not store.exists(d.digest)]
        for d in wanted:
            progress(p.Progress(d.digest, p.ALREADY_EXISTS if d not in missing else p.PULLING))
        endpoints = self.registries.endpoints(ref.domain)
        if endpoint is not None:  # the resolve's source first; from a mirror, the registry after it
            endpoints = [endpoint] + [e for e in endpoints if endpoint.mirror and not e.mirror]
        job = _Job(self.registries, ref, store, progress, endpoints, credentials, sinks)
        workers = self.registries.config.max_concurrent_downloads
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
            futures: list[Future[None]] = []
            for position, d in enumerate(missing):
                if position >= workers:
                    progress(p.Progress(d.digest, p.WAITING))
                futures.append(pool.submit(job.download, d))
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            failure = next((f.exception() for f in done if f.exception() is not None), None)
            if failure is not None:
                job.cancel.set()
                wait(futures)
        if failure is not None:
            (undo or job.delete)(list(job.published))
            raise failure
        return job.published


class _Job:
    """The shared state of one fetch: its source, the cancel flag, what it published."""

    def __init__(
        self,
        registries: Registries,
        ref: Reference,
        store: ContentStore,
        progress: p.ProgressCallback,
        endpoints: list[Endpoint],
        credentials: Credentials | None,
        sinks: SinkFactory | None,
    ) -> None:
        self.registries = registries
        self.ref = ref
        self.store = store
        self.progress = progress
        self.endpoints = endpoints
        self.credentials = credentials
        self.sinks = sinks
        self.cancel = threading.Event()
        self.published: list[Digest] = []
        self._clients: dict[str, RegistryClient] = {}
        self._lock = threading.Lock()

    def download(self, descriptor: Descriptor) -> None:
        if self.cancel.is_set():
            raise Cancelled(f"download of {descriptor.digest} cancelled")

        def attempt(endpoint: Endpoint) -> None:
            sink = self.sinks(descriptor) if self.sinks else None
            try:
                self._download_from(self._client(endpoint), descriptor, sink)
            except BaseException:
                if sink is not None:
                    sink.abort()
                raise
            if sink is not None:
                sink.close()

        try_endpoints(self.endpoints, attempt)
        self.progress(p.Progress(descriptor.digest, p.DOWNLOAD_COMPLETE))

    def _download_from(self, client: RegistryClient, descriptor: Descriptor, sink: BlobSink | None) -> None:
        with self.store.writer(descriptor.digest, descriptor.size) as writer:
            out = _Tee(writer, sink) if sink else writer
            self._stream(client, descriptor, out)
            self.progress(p.Progress(descriptor.digest, p.VERIFYING))
            try:
                writer.commit()
            except InvalidArgument as exc:
                raise VerificationFailed(
                    f"filesystem layer verification failed for digest {descriptor.digest}: {exc}"
                ) from None
        with self._lock:
            self.published.append(descriptor.digest)
        if isinstance(out, _Tee) and out.error is not None:
            raise out.error

    def _client(self, endpoint: Endpoint) -> RegistryClient:
        """One client per endpoint for the whole fetch (credentials are looked up once)."""
        with self._lock:
            if endpoint.url not in self._clients:
                self._clients[endpoint.url] = self.registries.client(endpoint, self.credentials)
            return self._clients[endpoint.url]

    def _stream(self, client: RegistryClient, descriptor: Descriptor, writer: ContentWriter | _Tee) -> None:
        """Copy the blob into writer, resuming after broken connections."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                response = self._open(client, descriptor, writer.offset)
                if response.status == 200 and writer.offset:
                    _skip(response, writer.offset)  # the registry ignored Range: drop what we have
                self._copy(response, descriptor, writer)
                return
            except HandshakeFailed:
                raise
            except Unavailable as exc:
                if attempt == ATTEMPTS or self.cancel.is_set():
                    raise Unavailable(
                        f"failed to download {descriptor.digest} after {attempt} attempts: {exc}"
                    ) from None
                self.progress(p.Progress(descriptor.digest, p.RETRYING, writer.offset, descriptor.size, str(exc)))
                time.sleep(RETRY_DELAY * attempt)

    def _open(self, client: RegistryClient, descriptor: Descriptor, offset: int) -> Response:
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        path = f"/v2/{self.ref.path}/blobs/{descriptor.digest}"
        response = client.send("GET", path, (repository_scope(self.ref.path, "pull"),), headers)
        if response.status == 404:
            response.read()
            raise NotFound(f"blob {descriptor.digest} not found: blob unknown: blob unknown to registry")
        raise_for_status(response, f"fetching blob {descriptor.digest}")
        if offset and response.status == 206 and not response.header("Content-Range").startswith(f"bytes {offset}-"):
            response.close()
            raise Unavailable(f"registry answered Range {offset}- with {response.header('Content-Range')!r}")
        length = response.header("Content-Length")
        expected = descriptor.size - (offset if response.status == 206 else 0)
        if length.isdigit() and int(length) != expected:
            response.close()
            raise VerificationFailed(
                f"registry sent Content-Length {length} for blob {descriptor.digest} of size {descriptor.size}"
            )
        return response

    def _copy(self, response: Response, descriptor: Descriptor, writer: ContentWriter | _Tee) -> None:
        buffer = memoryview(bytearray(CHUNK))
        reported = writer.offset
        try:
            while count := response.readinto(buffer):
                if self.cancel.is_set():
                    raise Cancelled(f"download of {descriptor.digest} cancelled")
                if writer.offset + count > descriptor.size:
                    raise VerificationFailed(f"blob {descriptor.digest} is longer than its size {descriptor.size}")
                writer.write(buffer[:count])
                if writer.offset - reported >= REPORT_EVERY or writer.offset == descriptor.size:
                    reported = writer.offset
                    self.progress(p.Progress(descriptor.digest, p.DOWNLOADING, reported, descriptor.size))
        finally:
            response.close()
        if writer.offset < descriptor.size:
            raise Unavailable(f"unexpected EOF after {writer.offset} of {descriptor.size} bytes")

    def delete(self, digests: list[Digest]) -> None:
        """Delete blobs this fetch published (the fetch failed as a whole)."""
        for digest in digests:
            try:
                self.store.delete(digest)
            except NotFound:
                pass


def _skip(response: Response, count: int) -> None:
    """Read and drop the first `count` bytes of a body."""
    buffer = memoryview(bytearray(min(CHUNK, count)))
    while count > 0:
        read = response.readinto(buffer[: min(len(buffer), count)])
        if read == 0:
            raise Unavailable("unexpected EOF while skipping to the resume offset")
        count -= read

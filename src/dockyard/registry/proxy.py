"""Pull-through cache: fetch what a client asks for from an upstream registry, verify it, keep it.

On a miss the registry fetches the manifest or blob from upstream, answering its bearer or basic
challenge. Tokens are kept per repository until they expire, and a 401 to a token we sent makes
us fetch a fresh one once (an upstream that restarted or shortened lifetimes is not fatal).
Upstream credentials go only to the upstream's own host: a token realm on another host (unless
listed in `proxy.token_hosts`, and then over https only) or a plain-http realm for an https
upstream gets an anonymous token request.

A manifest is read whole (it is small), checked and stored. A blob is streamed to the client
while it fills an upload session; the last byte is held back until the whole blob matched its
digest and was published, so a client never receives a complete wrong blob (it sees the
connection cut instead) and the cache entry becomes visible only once verified.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import re
import threading
import time
from collections.abc import Iterator
from urllib.parse import SplitResult, urlencode, urlsplit

from dockyard.oci.digest import Digest
from dockyard.registry import errcodes
from dockyard.registry.errcodes import RegistryError
from dockyard.registry.http import Stream
from dockyard.registry.manifests import MANIFEST_TYPES, MAX_MANIFEST_SIZE, parse_manifest
from dockyard.registry.storage import Storage
from dockyard.registry.uploads import Uploads

_CHUNK = 1 << 20
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
_REDIRECTS = (301, 302, 303, 307, 308)
_TOKEN_LIMIT = 1 << 20


class Upstream:
    """One upstream registry, reached over HTTP(S) with optional credentials."""

    def __init__(
        self,
        url: str,
        username: str = "",
        password: str = "",
        timeout: float = 60.0,
        token_hosts: tuple[str, ...] = (),
    ) -> None:
        self.url = urlsplit(url.rstrip("/"))
        self.username, self.password = username, password
        self.timeout = timeout
        self.token_hosts = frozenset(token_hosts)
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def _connect(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        if scheme not in ("http", "https"):
            raise RegistryError(errcodes.UNAVAILABLE, None, f"upstream sent an unsupported URL scheme: {scheme!r}")
        cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        return cls(netloc, timeout=self.timeout)

    def _basic(self) -> str:
        return "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()

    def may_send_credentials(self, realm: SplitResult) -> bool:
        """Whether our credentials may go to a token `realm`: the upstream's own host (never downgraded
        from https to http), or a host listed in token_hosts over https."""
        if not self.username:
            return False
        if realm.hostname == self.url.hostname:
            return realm.scheme == "https" or self.url.scheme == "http"
        return realm.scheme == "https" and realm.hostname in self.token_hosts

    def _fetch_token(self, challenge: str, name: str) -> tuple[str, float]:
        params = dict(_CHALLENGE_PARAM.findall(challenge))
        realm = urlsplit(params.pop("realm", ""))
        query = urlencode({"service": params.get("service", ""), "scope": f"repository:{name}:pull"})
        headers = {"authorization": self._basic()} if self.may_send_credentials(realm) else {}
        conn = self._connect(realm.scheme, realm.netloc)
        try:
            conn.request("GET", f"{realm.path}?{query}", headers=headers)
            response = conn.getresponse()
            body = response.read(_TOKEN_LIMIT)
        except OSError as exc:
            raise RegistryError(errcodes.UNAVAILABLE, None, f"upstream token endpoint unreachable: {exc}") from None
        finally:
            conn.close()
        if response.status != 200:
            raise RegistryError(errcodes.UNAVAILABLE, None, f"upstream token endpoint answered {response.status}")
        try:
            doc = json.loads(body)
            token = doc.get("token") or doc.get("access_token")
            lifetime = float(doc.get("expires_in") or 60)
        except (ValueError, AttributeError, TypeError):
            token = None
        if not isinstance(token, str) or not token:
            raise RegistryError(errcodes.UNAVAILABLE, None, "upstream token endpoint sent no token")
        return "Bearer " + token, time.monotonic() + max(lifetime - 5, 1)

    def _token(self, name: str) -> str | None:
        with self._lock:
            header, expiry = self._tokens.get(name, ("", 0.0))
            if header and expiry > time.monotonic():
                return header
            self._tokens.pop(name, None)
        return None

    def _request(
        self, method: str, path: str, headers: dict[str, str]
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        conn = self._connect(self.url.scheme, self.url.netloc)
        try:
            conn.request(method, self.url.path + path, headers=headers)
            return conn, conn.getresponse()
        except OSError as exc:
            conn.close()
            raise RegistryError(errcodes.UNAVAILABLE, None, f"upstream unreachable: {exc}") from None

    def _get(
        self, name: str, path: str, accept: str, method: str = "GET"
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """`method` `path` upstream, answering its challenge (again once when a token we sent is refused)."""
        for _ in range(3):
            headers = {"accept": accept}
            sent = self._token(name)
            if sent:
                headers["authorization"] = sent
            conn, response = self._request(method, path, headers)
            if response.status != 401:
                return conn, response
            challenge = response.getheader("www-authenticate", "")
            conn.close()
            if challenge.lower().startswith("bearer"):
                fresh = self._fetch_token(challenge, name)
            elif self.username and not sent:
                fresh = (self._basic(), float("inf"))
            else:
                break
            with self._lock:
                self._tokens[name] = fresh
        raise RegistryError(errcodes.UNAUTHORIZED, None, "upstream refused our credentials")

    def cache_manifest(self, storage: Storage, name: str, reference: Digest | str) -> None:
        """Fetch a manifest, check it, store it as a revision (and tag) of `name`. Raises MANIFEST_UNKNOWN."""
        conn, response = self._get(name, f"/v2/{name}/manifests/{reference}", ", ".join(MANIFEST_TYPES))
        try:
            if response.status != 200:
                raise RegistryError(errcodes.MANIFEST_UNKNOWN, {"reference": str(reference)})
            data = response.read(MAX_MANIFEST_SIZE + 1)
        finally:
            conn.close()
        if len(data) > MAX_MANIFEST_SIZE:
            raise RegistryError(errcodes.MANIFEST_INVALID, {"reference": str(reference)}, "upstream manifest too large")
        digest = Digest("sha256:" + hashlib.sha256(data).hexdigest())
        if isinstance(reference, Digest) and reference != digest:
            raise RegistryError(errcodes.DIGEST_INVALID, {"digest": str(reference)})
        manifest = parse_manifest(data, response.getheader("content-type"))
        tag = None if isinstance(reference, Digest) else reference
        storage.put_manifest(name, data, manifest, digest, tag, verify_references=False)

    def _open_blob(
        self, name: str, digest: Digest, method: str = "GET"
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """The upstream's 200 for a blob, after one redirect (which gets no credentials). Raises BLOB_UNKNOWN."""
        conn, response = self._get(name, f"/v2/{name}/blobs/{digest}", "*/*", method)
        if response.status in _REDIRECTS:
            location = urlsplit(response.getheader("location", ""))
            conn.close()
            conn = self._connect(location.scheme, location.netloc)
            try:
                conn.request(method, location.path + (f"?{location.query}" if location.query else ""))
                response = conn.getresponse()
            except OSError as exc:
                conn.close()
                raise RegistryError(errcodes.UNAVAILABLE, None, f"upstream unreachable: {exc}") from None
        if response.status != 200:
            conn.close()
            raise RegistryError(errcodes.BLOB_UNKNOWN, {"digest": str(digest)})
        return conn, response

    def blob_size(self, name: str, digest: Digest) -> int:
        """HEAD the blob upstream: its size. Raises BLOB_UNKNOWN."""
        conn, response = self._open_blob(name, digest, "HEAD")
        conn.close()
        length = response.getheader("content-length", "")
        if not length.isdigit():
            raise RegistryError(errcodes.BLOB_UNKNOWN, {"digest": str(digest)})
        return int(length)

    def stream_blob(self, uploads: Uploads, name: str, digest: Digest, client: str) -> Stream:
        """The blob as a stream that fills the cache as it is sent; see the module docstring."""
        conn, response = self._open_blob(name, digest)
        try:
            upload_id = uploads.start(name, client)
        except BaseException:
            conn.close()
            raise
        return Stream(response.length, self._tee(conn, response, uploads, name, upload_id, digest))

    @staticmethod
    def _tee(
        conn: http.client.HTTPConnection,
        response: http.client.HTTPResponse,
        uploads: Uploads,
        name: str,
        upload_id: str,
        digest: Digest,
    ) -> Iterator[bytes]:
        try:
            held = b""  # the last byte received, sent only once the blob is verified and published
            while chunk := response.read1(_CHUNK):
                uploads.append(name, upload_id, [chunk])
                if out := held + chunk[:-1]:
                    yield out
                held = chunk[-1:]
            uploads.finish(name, upload_id, digest, [])
            if held:
                yield held
        finally:
            conn.close()
            uploads.discard(upload_id)

    def cache_blob(self, uploads: Uploads, name: str, digest: Digest, client: str = "") -> None:
        """Fetch a whole blob into the cache (for a Range request on a miss). Raises BLOB_UNKNOWN."""
        for _ in self.stream_blob(uploads, name, digest, client).chunks:
            pass

"""Pull-through cache: fetch what a client asks for from an upstream registry, verify it, keep it.

On a miss the registry fetches the manifest or blob from upstream (answering its bearer or
basic challenge), stores it through the same verified paths as a push (a blob goes through an
upload, so its digest is checked before it becomes visible), then serves it from disk.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
from urllib.parse import urlencode, urlsplit

from dockyard.oci.digest import Digest
from dockyard.registry import errcodes
from dockyard.registry.errcodes import RegistryError
from dockyard.registry.manifests import ACCEPTED, MAX_MANIFEST_SIZE, parse_manifest
from dockyard.registry.storage import Storage
from dockyard.registry.uploads import Uploads

_CHUNK = 1 << 20
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


class Upstream:
    """One upstream registry, reached over HTTP(S) with optional credentials."""

    def __init__(self, url: str, username: str = "", password: str = "", timeout: float = 60.0) -> None:
        self.url = urlsplit(url.rstrip("/"))
        self.username, self.password = username, password
        self.timeout = timeout
        self._tokens: dict[str, str] = {}

    def _connect(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        return cls(netloc, timeout=self.timeout)

    def _basic(self) -> str:
        return "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()

    def _fetch_token(self, challenge: str, name: str) -> str:
        params = dict(_CHALLENGE_PARAM.findall(challenge))
        realm = urlsplit(params.pop("realm", ""))
        query = urlencode({"service": params.get("service", ""), "scope": f"repository:{name}:pull"})
        conn = self._connect(realm.scheme, realm.netloc)
        headers = {"authorization": self._basic()} if self.username else {}
        conn.request("GET", f"{realm.path}?{query}", headers=headers)
        response = conn.getresponse()
        body = response.read(1 << 20)
        conn.close()
        if response.status != 200:
            raise RegistryError(errcodes.UNAVAILABLE, None, f"upstream token endpoint answered {response.status}")
        doc = json.loads(body)
        return doc.get("token") or doc.get("access_token") or ""

    def _get(self, name: str, path: str, accept: str) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """GET `path` upstream, answering one auth challenge; follows one redirect."""
        for _ in range(3):
            conn = self._connect(self.url.scheme, self.url.netloc)
            headers = {"accept": accept}
            if name in self._tokens:
                headers["authorization"] = self._tokens[name]
            try:
                conn.request("GET", self.url.path + path, headers=headers)
                response = conn.getresponse()
            except OSError as exc:
                raise RegistryError(errcodes.UNAVAILABLE, None, f"upstream unreachable: {exc}") from None
            if response.status != 401 or name in self._tokens:
                return conn, response
            challenge = response.getheader("www-authenticate", "")
            conn.close()
            if challenge.lower().startswith("bearer"):
                self._tokens[name] = "Bearer " + self._fetch_token(challenge, name)
            else:
                self._tokens[name] = self._basic()
        raise RegistryError(errcodes.UNAUTHORIZED, None, "upstream refused our credentials")

    def cache_manifest(self, storage: Storage, name: str, reference: Digest | str) -> None:
        """Fetch a manifest, check it, store it as a revision (and tag) of `name`. Raises MANIFEST_UNKNOWN."""
        conn, response = self._get(name, f"/v2/{name}/manifests/{reference}", ", ".join(ACCEPTED))
        try:
            if response.status != 200:
                raise RegistryError(errcodes.MANIFEST_UNKNOWN, {"reference": str(reference)})
            data = response.read(MAX_MANIFEST_SIZE + 1)
        finally:
            conn.close()
        digest = Digest.of(data)
        if isinstance(reference, Digest) and reference != digest:
            raise RegistryError(errcodes.DIGEST_INVALID, {"digest": str(reference)})
        manifest = parse_manifest(data, response.getheader("content-type"))
        tag = None if isinstance(reference, Digest) else reference
        storage.put_manifest(name, data, manifest, digest, tag, verify_references=False)

    def cache_blob(self, uploads: Uploads, name: str, digest: Digest) -> None:
        """Stream a blob from upstream into an upload and publish it once its digest checks. Raises BLOB_UNKNOWN."""
        conn, response = self._get(name, f"/v2/{name}/blobs/{digest}", "*/*")
        if response.status in (301, 302, 303, 307, 308):
            location = urlsplit(response.getheader("location", ""))
            conn.close()
            conn = self._connect(location.scheme, location.netloc)
            conn.request("GET", location.path + (f"?{location.query}" if location.query else ""))
            response = conn.getresponse()
        upload_id = uploads.start(name)
        try:
            if response.status != 200:
                raise RegistryError(errcodes.BLOB_UNKNOWN, {"digest": str(digest)})
            uploads.finish(name, upload_id, digest, iter(lambda: response.read(_CHUNK), b""))
        except BaseException:
            uploads.discard(upload_id)
            raise
        finally:
            conn.close()

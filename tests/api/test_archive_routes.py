"""The archive routes: the path stat travels base64 JSON in X-Docker-Container-Path-Stat."""

import base64
import io
import json

import pytest

from dockyard.api.messages import Request
from dockyard.api.routers import archive
from dockyard.errors import InvalidArgument

STAT = {"name": "f", "size": 3, "mode": 420, "mtime": "2024-01-01T00:00:00Z", "linkTarget": ""}


class FakeArchive:
    def __init__(self):
        self.puts = []

    def stat(self, ref, path):
        return STAT

    def get(self, ref, path):
        return STAT, iter([b"tar"])

    def put(self, ref, path, body, no_overwrite_dir_non_dir, copy_uid_gid):
        self.puts.append((ref, path, body.read(), no_overwrite_dir_non_dir, copy_uid_gid))


def _request(method, query, body=b""):
    return Request(method, "/containers/web/archive", "1.44", {"name": "web"}, query, {}, io.BytesIO(body))


def test_head_and_get_carry_the_stat():
    backend = FakeArchive()
    head = archive.head_archive(backend, _request("HEAD", {"path": ["/f"]}))
    name, value = head.headers[0]
    assert name == archive.STAT_HEADER and json.loads(base64.b64decode(value)) == STAT
    got = archive.get_archive(backend, _request("GET", {"path": ["/f"]}))
    assert got.content_type == "application/x-tar" and got.headers == head.headers and list(got.chunks) == [b"tar"]


def test_put_passes_its_flags_and_a_path_is_required():
    backend = FakeArchive()
    query = {"path": ["/d"], "noOverwriteDirNonDir": ["1"], "copyUIDGID": ["true"]}
    assert archive.put_archive(backend, _request("PUT", query, b"body")).status == 200
    assert backend.puts == [("web", "/d", b"body", True, True)]
    with pytest.raises(InvalidArgument):
        archive.put_archive(backend, _request("PUT", {}))

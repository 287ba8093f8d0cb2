"""Upload sessions: nothing writes into an upload once finishing starts (so a published blob always
matches its digest), sessions are limited per client and in total (429), and abandoned ones expire."""

from __future__ import annotations

import http.client
import time

import pytest

from dockyard.registry.config import Config
from tests.registry.registry_support import Client, RunningRegistry, sha


def app_of(running: RunningRegistry):
    return running.server.handler.args[0]


def test_patch_while_finishing_cannot_write_into_the_published_blob(registry, client):
    location = client.request("POST", "/v2/race/blob/blobs/uploads/").headers["location"]
    assert client.request("PATCH", location, b"good bytes").status == 202
    storage = app_of(registry).storage
    commit = storage.commit_blob
    intruder: list = []

    def commit_after_a_racing_patch(name, path, digest):
        # another request arrives between the digest check and the publish
        intruder.append(Client(registry.host).request("PATCH", location, b"EVIL"))
        intruder.append(Client(registry.host).request("PUT", location + "?digest=" + sha(b"good bytesEVIL")))
        commit(name, path, digest)

    storage.commit_blob = commit_after_a_racing_patch
    done = client.request("PUT", location + "?digest=" + sha(b"good bytes"))
    storage.commit_blob = commit
    assert done.status == 201
    assert [r.status for r in intruder] == [404, 404] and intruder[0].codes == ["BLOB_UPLOAD_UNKNOWN"]
    blob = registry.storage / "blobs" / "sha256" / sha(b"good bytes").removeprefix("sha256:")
    assert blob.read_bytes() == b"good bytes"
    assert client.request("GET", f"/v2/race/blob/blobs/{sha(b'good bytes')}").body == b"good bytes"


def test_patch_during_a_slow_last_chunk_is_refused(registry, client):
    location = client.request("POST", "/v2/race/slow/blobs/uploads/").headers["location"]
    conn = http.client.HTTPConnection(registry.host, timeout=10)
    conn.putrequest("PUT", location + "?digest=" + sha(b"abcdef"))
    conn.putheader("Content-Length", "6")
    conn.endheaders()
    conn.send(b"abc")
    time.sleep(0.3)  # the finishing request holds the upload
    racing = Client(registry.host).request("PATCH", location, b"zzz")
    assert racing.status == 400 and "busy" in racing.json()["errors"][0]["message"]
    conn.send(b"def")
    assert conn.getresponse().status == 201
    conn.close()
    assert client.request("GET", f"/v2/race/slow/blobs/{sha(b'abcdef')}").body == b"abcdef"


def client_from(running: RunningRegistry, source: str) -> Client:
    client = Client(running.host)
    client.conn = http.client.HTTPConnection(running.host, timeout=10, source_address=(source, 0))
    client.host = running.host
    return client


@pytest.fixture
def limited(tmp_path):
    config = Config(max_uploads=3, max_uploads_per_client=2, upload_ttl=1.0)
    running = RunningRegistry(tmp_path / "storage", config)
    yield running
    running.close()


def test_sessions_are_limited_per_client_and_in_total(limited):
    one, two = client_from(limited, "127.0.0.2"), client_from(limited, "127.0.0.3")
    first = one.request("POST", "/v2/lim/a/blobs/uploads/").headers["location"]
    assert one.request("POST", "/v2/lim/a/blobs/uploads/").status == 202
    refused = one.request("POST", "/v2/lim/a/blobs/uploads/")
    assert refused.status == 429 and refused.codes == ["TOOMANYREQUESTS"]
    assert two.request("POST", "/v2/lim/b/blobs/uploads/").status == 202
    assert two.request("POST", "/v2/lim/b/blobs/uploads/").status == 429  # the total is reached
    assert one.request("PUT", first + "?digest=" + sha(b"")).status == 201
    assert two.request("POST", "/v2/lim/b/blobs/uploads/").status == 202
    assert len(list((limited.storage / "uploads").iterdir())) == 3


def test_abandoned_sessions_expire(limited):
    client = limited.client()
    stale = client.request("POST", "/v2/lim/old/blobs/uploads/").headers["location"]
    assert client.request("PATCH", stale, b"half").status == 202
    time.sleep(1.3)
    fresh = client.request("POST", "/v2/lim/old/blobs/uploads/").headers["location"]
    gone = client.request("GET", stale)
    assert gone.status == 404 and gone.codes == ["BLOB_UPLOAD_UNKNOWN"]
    assert [p.name for p in (limited.storage / "uploads").iterdir()] == [fresh.rsplit("/", 1)[1]]
    assert client.request("PATCH", fresh, b"live").status == 202


def test_abandoned_sessions_expire_without_new_uploads(limited):
    client = limited.client()
    stale = client.request("POST", "/v2/lim/idle/blobs/uploads/").headers["location"]
    deadline = time.monotonic() + 5
    while list((limited.storage / "uploads").iterdir()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert list((limited.storage / "uploads").iterdir()) == []
    assert client.request("GET", stale).status == 404


def test_sessions_left_on_disk_are_adopted_and_expire(tmp_path):
    first = RunningRegistry(tmp_path / "storage", Config(upload_ttl=1.0))
    location = first.client().request("POST", "/v2/lim/restart/blobs/uploads/").headers["location"]
    first.close()
    second = RunningRegistry(tmp_path / "storage", Config(upload_ttl=1.0))
    try:
        client = second.client()
        assert client.request("PATCH", location, b"resumed").status == 202
        time.sleep(1.3)
        client.request("POST", "/v2/lim/restart/blobs/uploads/")
        assert client.request("GET", location).status == 404
    finally:
        second.close()

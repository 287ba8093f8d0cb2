"""Garbage collection: what is removed, what is kept, dry run, and no lost blob under a concurrent push."""

from __future__ import annotations

import json
import os
import threading
import time

from dockyard.registry.gc import gc
from tests.registry.registry_support import image_manifest, push_image, sha


def age_everything(storage, seconds: float = 7200) -> None:
    """Make every blob and upload look `seconds` old, as if pushed long ago."""
    past = time.time() - seconds
    for directory in (storage / "blobs" / "sha256", storage / "uploads"):
        for root, _, files in os.walk(directory):
            for name in files:
                os.utime(os.path.join(root, name), (past, past))


def test_gc_removes_unreferenced_and_keeps_referenced(registry, client):
    keep_layer, drop_layer, shared = os.urandom(100), os.urandom(100), os.urandom(100)
    kept, _ = push_image(client, "gc/a", "v1", [keep_layer, shared])
    dropped, _ = push_image(client, "gc/b", "v1", [drop_layer, shared])
    orphan = client.push_blob("gc/c", b"orphan")
    assert client.request("DELETE", f"/v2/gc/b/manifests/{dropped}").status == 202
    age_everything(registry.storage)
    dry = gc(registry.storage, dry_run=True)
    assert {sha(drop_layer), orphan, dropped} <= set(dry.deleted_blobs)
    assert client.request("GET", f"/v2/gc/b/blobs/{sha(drop_layer)}").status == 200
    report = gc(registry.storage)
    assert set(report.deleted_blobs) == set(dry.deleted_blobs) and report.freed_bytes > 0
    for layer in (keep_layer, shared):
        assert client.request("GET", f"/v2/gc/a/blobs/{sha(layer)}").status == 200
    assert client.request("GET", "/v2/gc/a/manifests/v1").headers["docker-content-digest"] == kept
    assert client.request("GET", f"/v2/gc/b/blobs/{sha(drop_layer)}").status == 404
    assert client.request("GET", f"/v2/gc/c/blobs/{orphan}").status == 404
    assert not (registry.storage / "repositories/gc/c/_layers/sha256" / orphan[7:]).exists()
    assert gc(registry.storage).deleted_blobs == []


def test_gc_keeps_index_children_and_young_blobs(registry, client):
    child, child_data = push_image(client, "gc/idx", "child")
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": child, "size": len(child_data)}
        ],
    }
    assert client.push_manifest("gc/idx", "list", index).status == 201
    assert client.request("DELETE", "/v2/gc/idx/manifests/child").status == 202
    young = client.push_blob("gc/idx", b"just uploaded, manifest not pushed yet")
    age_everything(registry.storage)
    os.utime(registry.storage / "blobs/sha256" / young[7:])
    report = gc(registry.storage)
    assert report.deleted_blobs == [] and report.kept_young == 1
    assert client.request("GET", f"/v2/gc/idx/manifests/{child}").status == 200


def test_gc_removes_abandoned_uploads_only(registry, client):
    old = client.request("POST", "/v2/gc/up/blobs/uploads/").headers["location"].rsplit("/", 1)[1]
    age_everything(registry.storage)
    active = client.request("POST", "/v2/gc/up/blobs/uploads/").headers["location"]
    report = gc(registry.storage, upload_grace=3600)
    assert report.deleted_uploads == [old]
    assert client.request("GET", active).status == 204


def test_no_blob_lost_to_gc_during_concurrent_pushes(registry, client):
    """Pushes that reference old, unreferenced layers race a GC loop with no grace; none may lose a blob."""
    config = b"{}"
    old_layers = [os.urandom(64) for _ in range(120)]
    for layer in (config, *old_layers):
        client.push_blob("gc/race", layer)
    assert client.push_manifest("gc/race", "base", image_manifest(config, [])).status == 201
    age_everything(registry.storage)
    pushed: list[str] = []
    stop = threading.Event()

    def pusher() -> None:
        own = registry.client()
        for i, layer in enumerate(old_layers):
            doc = image_manifest(config, [layer])
            data = json.dumps(doc).encode()
            reply = own.request("PUT", f"/v2/gc/race/manifests/t{i}", data, {"Content-Type": doc["mediaType"]})
            if reply.status == 400 and reply.codes == ["MANIFEST_BLOB_UNKNOWN"]:
                own.push_blob("gc/race", layer)  # collected before we referenced it: upload again, as clients do
                reply = own.request("PUT", f"/v2/gc/race/manifests/t{i}", data, {"Content-Type": doc["mediaType"]})
            if reply.status == 201:
                pushed.append(f"t{i}")
        stop.set()

    thread = threading.Thread(target=pusher)
    thread.start()
    deleted = 0
    while not stop.is_set():
        deleted += len(gc(registry.storage, grace=0).deleted_blobs)
    thread.join()
    deleted += len(gc(registry.storage, grace=0).deleted_blobs)
    assert deleted > 0, "the race never happened: GC deleted nothing"
    assert len(pushed) == len(old_layers)
    for tag in pushed:
        doc = client.request("GET", f"/v2/gc/race/manifests/{tag}").json()
        for blob in (doc["config"], *doc["layers"]):
            assert client.request("HEAD", f"/v2/gc/race/blobs/{blob['digest']}").status == 200, tag

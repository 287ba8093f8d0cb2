"""The OCI distribution-spec conformance scenarios (pull, push, content discovery, content management).

Each test names the section of the distribution spec (v1.1, spec.md) it reproduces, in the
order of the upstream conformance suite (conformance/01_pull_test.go .. 04_management_test.go).
"""

from __future__ import annotations

import json
import os

from tests.registry.registry_support import OCI_MANIFEST, image_manifest, push_image, sha

# --- 01 pull: "Pulling manifests", "Pulling blobs", "Checking if content exists in the registry"


def test_pull_manifest_by_tag_and_digest(client):
    """spec.md "Pulling manifests": GET by tag and by digest return the exact bytes pushed."""
    digest, data = push_image(client, "conf/pull", "v1")
    by_tag = client.request("GET", "/v2/conf/pull/manifests/v1")
    by_digest = client.request("GET", f"/v2/conf/pull/manifests/{digest}")
    assert by_tag.status == by_digest.status == 200
    assert by_tag.body == by_digest.body == data
    assert by_tag.headers["docker-content-digest"] == digest == sha(data)
    assert by_tag.headers["content-type"] == OCI_MANIFEST


def test_head_manifest_and_unknown_manifest(client):
    """spec.md "Checking if content exists": HEAD 200 with length and digest; unknown -> 404 MANIFEST_UNKNOWN."""
    digest, data = push_image(client, "conf/head", "v1")
    head = client.request("HEAD", "/v2/conf/head/manifests/v1")
    assert head.status == 200 and head.body == b""
    assert head.headers["content-length"] == str(len(data))
    assert head.headers["docker-content-digest"] == digest
    missing = client.request("GET", "/v2/conf/head/manifests/nope")
    assert missing.status == 404 and missing.codes == ["MANIFEST_UNKNOWN"]
    assert client.request("HEAD", "/v2/conf/head/manifests/nope").status == 404


def test_pull_blob_head_and_range(client):
    """spec.md "Pulling blobs": GET the blob, HEAD it, and a Range request answers 206 with Content-Range."""
    data = os.urandom(10000)
    digest = client.push_blob("conf/blob", data)
    assert client.request("GET", f"/v2/conf/blob/blobs/{digest}").body == data
    head = client.request("HEAD", f"/v2/conf/blob/blobs/{digest}")
    assert head.status == 200 and head.headers["content-length"] == "10000"
    part = client.request("GET", f"/v2/conf/blob/blobs/{digest}", headers={"Range": "bytes=100-199"})
    assert part.status == 206 and part.body == data[100:200]
    assert part.headers["content-range"] == "bytes 100-199/10000"
    tail = client.request("GET", f"/v2/conf/blob/blobs/{digest}", headers={"Range": "bytes=-10"})
    assert tail.body == data[-10:]
    bad = client.request("GET", f"/v2/conf/blob/blobs/{digest}", headers={"Range": "bytes=20000-"})
    assert bad.status == 416 and bad.headers["content-range"] == "bytes */10000"


def test_unknown_blob_and_blob_of_other_repository(client):
    """spec.md "Pulling blobs": 404 BLOB_UNKNOWN, also for a blob only linked into another repository."""
    digest = client.push_blob("conf/one", b"only in one")
    assert client.request("GET", f"/v2/conf/two/blobs/{digest}").codes == ["BLOB_UNKNOWN"]
    assert client.request("GET", f"/v2/conf/one/blobs/{sha(b'x')}").status == 404


# --- 02 push: "Pushing blobs", "Pushing a blob in chunks", "Mounting a blob", "Pushing manifests"


def test_push_post_then_put(client):
    """spec.md "POST then PUT": 202 with Location, then PUT ?digest= -> 201 and the blob is pullable."""
    data = os.urandom(5000)
    start = client.request("POST", "/v2/conf/push/blobs/uploads/")
    assert start.status == 202 and start.headers["location"].startswith("/v2/conf/push/blobs/uploads/")
    done = client.request("PUT", f"{start.headers['location']}?digest={sha(data)}", data)
    assert done.status == 201
    assert done.headers["location"] == f"/v2/conf/push/blobs/{sha(data)}"
    assert client.request("GET", done.headers["location"]).body == data


def test_push_single_post(client):
    """spec.md "Single POST": POST ?digest= with the body -> 201."""
    reply = client.request("POST", f"/v2/conf/single/blobs/uploads/?digest={sha(b'abc')}", b"abc")
    assert reply.status == 201 and reply.headers["docker-content-digest"] == sha(b"abc")


def test_push_chunked_with_status_and_out_of_order(client):
    """spec.md "Pushing a blob in chunks": PATCH with Content-Range, 416 out of order, GET status, closing PUT."""
    data = os.urandom(3000)
    location = client.request("POST", "/v2/conf/chunk/blobs/uploads/").headers["location"]
    first = client.request("PATCH", location, data[:1000], {"Content-Range": "0-999"})
    assert first.status == 202 and first.headers["range"] == "0-999"
    wrong = client.request("PATCH", first.headers["location"], data[2000:], {"Content-Range": "2000-2999"})
    assert wrong.status == 416
    status = client.request("GET", first.headers["location"])
    assert status.status == 204 and status.headers["range"] == "0-999"
    second = client.request("PATCH", status.headers["location"], data[1000:2000], {"Content-Range": "1000-1999"})
    assert second.headers["range"] == "0-1999"
    done = client.request(
        "PUT", f"{second.headers['location']}?digest={sha(data)}", data[2000:], {"Content-Range": "2000-2999"}
    )
    assert done.status == 201
    assert client.request("GET", f"/v2/conf/chunk/blobs/{sha(data)}").body == data


def test_cross_repository_mount(client):
    """spec.md "Mounting a blob from another repository": 201 when the source has it, else 202 and an upload."""
    digest = client.push_blob("conf/source", b"shared layer")
    mounted = client.request("POST", f"/v2/conf/target/blobs/uploads/?mount={digest}&from=conf/source")
    assert mounted.status == 201 and mounted.headers["location"] == f"/v2/conf/target/blobs/{digest}"
    assert client.request("GET", f"/v2/conf/target/blobs/{digest}").body == b"shared layer"
    missing = client.request("POST", f"/v2/conf/target/blobs/uploads/?mount={sha(b'no')}&from=conf/source")
    assert missing.status == 202 and "location" in missing.headers
    not_there = client.request("POST", f"/v2/conf/other/blobs/uploads/?mount={digest}&from=conf/elsewhere")
    assert not_there.status == 202


def test_cancel_upload(client):
    """spec.md "Cancel a blob upload": DELETE -> 204, then the upload is unknown (404 BLOB_UPLOAD_UNKNOWN)."""
    location = client.request("POST", "/v2/conf/cancel/blobs/uploads/").headers["location"]
    client.request("PATCH", location, b"partial", {"Content-Range": "0-6"})
    assert client.request("DELETE", location).status == 204
    assert client.request("GET", location).codes == ["BLOB_UPLOAD_UNKNOWN"]


def test_push_manifest_by_tag_and_digest(client):
    """spec.md "Pushing Manifests": 201, Location and Docker-Content-Digest; by digest too."""
    config = b"{}"
    client.push_blob("conf/man", config)
    doc = image_manifest(config, [])
    data = json.dumps(doc).encode()
    by_digest = client.request("PUT", f"/v2/conf/man/manifests/{sha(data)}", data, {"Content-Type": OCI_MANIFEST})
    assert by_digest.status == 201 and by_digest.headers["docker-content-digest"] == sha(data)
    assert by_digest.headers["location"] == f"/v2/conf/man/manifests/{sha(data)}"
    by_tag = client.request("PUT", "/v2/conf/man/manifests/latest", data, {"Content-Type": OCI_MANIFEST})
    assert by_tag.status == 201
    assert client.request("GET", "/v2/conf/man/manifests/latest").body == data


def test_manifest_with_missing_blob_is_refused(client):
    """spec.md "Pushing Manifests": a manifest MUST reference blobs that exist -> MANIFEST_BLOB_UNKNOWN."""
    reply = client.push_manifest("conf/missing", "v1", image_manifest(b"{}", [b"never pushed"]))
    assert reply.status == 400 and reply.codes == ["MANIFEST_BLOB_UNKNOWN"]
    assert client.request("GET", "/v2/conf/missing/manifests/v1").status == 404


# --- 03 content discovery: "Listing Tags", "Listing Referrers"


def test_tags_list_and_pagination(client):
    """spec.md "Listing Tags": sorted tags; `n` limits with a Link header; `last` continues; n=0 is empty."""
    for tag in ("c", "a", "b", "d"):
        push_image(client, "conf/tags", tag)
    assert client.request("GET", "/v2/conf/tags/tags/list").json() == {"name": "conf/tags", "tags": list("abcd")}
    page = client.request("GET", "/v2/conf/tags/tags/list?n=2")
    assert page.json()["tags"] == ["a", "b"]
    assert page.headers["link"] == '</v2/conf/tags/tags/list?n=2&last=b>; rel="next"'
    assert client.request("GET", "/v2/conf/tags/tags/list?n=2&last=b").json()["tags"] == ["c", "d"]
    assert client.request("GET", "/v2/conf/tags/tags/list?last=c").json()["tags"] == ["d"]
    empty = client.request("GET", "/v2/conf/tags/tags/list?n=0")
    assert empty.json()["tags"] == [] and "link" not in empty.headers
    assert client.request("GET", "/v2/conf/none/tags/list").codes == ["NAME_UNKNOWN"]


def test_catalog(client):
    """distribution "Catalog": every repository, sorted, paginated like tags."""
    for name in ("cat/b", "cat/a", "cat/deep/c"):
        client.push_blob(name, b"x")
    assert client.request("GET", "/v2/_catalog").json() == {"repositories": ["cat/a", "cat/b", "cat/deep/c"]}
    page = client.request("GET", "/v2/_catalog?n=1&last=cat/a")
    assert page.json() == {"repositories": ["cat/b"]} and 'rel="next"' in page.headers["link"]


def test_referrers(client):
    """spec.md "Listing Referrers": manifests whose subject is the digest, artifactType kept, filter applied."""
    subject, subject_data = push_image(client, "conf/ref", "v1")
    subject_desc = {"mediaType": OCI_MANIFEST, "digest": subject, "size": len(subject_data)}
    client.push_blob("conf/ref", b"{}")
    sbom = image_manifest(
        b"{}", [], artifactType="application/vnd.example.sbom", subject=subject_desc, annotations={"org.example": "1"}
    )
    sig = image_manifest(b"{}", [], subject=subject_desc)
    sig["config"]["mediaType"] = "application/vnd.example.sig"
    pushed = client.push_manifest("conf/ref", sha(json.dumps(sbom).encode()), sbom)
    assert pushed.status == 201 and pushed.headers["oci-subject"] == subject
    assert client.push_manifest("conf/ref", sha(json.dumps(sig).encode()), sig).status == 201
    listed = client.request("GET", f"/v2/conf/ref/referrers/{subject}")
    assert listed.status == 200 and listed.headers["content-type"] == "application/vnd.oci.image.index.v1+json"
    kinds = sorted(m["artifactType"] for m in listed.json()["manifests"])
    assert kinds == ["application/vnd.example.sbom", "application/vnd.example.sig"]
    only = client.request("GET", f"/v2/conf/ref/referrers/{subject}?artifactType=application/vnd.example.sbom")
    assert [m["annotations"] for m in only.json()["manifests"]] == [{"org.example": "1"}]
    assert only.headers["oci-filters-applied"] == "artifactType"
    nothing = client.request("GET", f"/v2/conf/ref/referrers/{sha(b'none')}")
    assert nothing.status == 200 and nothing.json()["manifests"] == []
    assert client.request("GET", "/v2/conf/ref/referrers/sha256:bad").status == 400


# --- 04 content management: "Deleting tags", "Deleting Manifests", "Deleting Blobs"


def test_delete_tag_keeps_manifest(client):
    """spec.md "Deleting tags": DELETE by tag -> 202; the tag is gone, the digest still pulls."""
    digest, _ = push_image(client, "conf/deltag", "v1")
    assert client.request("DELETE", "/v2/conf/deltag/manifests/v1").status == 202
    assert client.request("GET", "/v2/conf/deltag/manifests/v1").status == 404
    assert client.request("GET", f"/v2/conf/deltag/manifests/{digest}").status == 200
    assert client.request("GET", "/v2/conf/deltag/tags/list").json()["tags"] == []


def test_delete_manifest_and_blob(client):
    """spec.md "Deleting Manifests" and "Deleting Blobs": 202, then 404 for both."""
    layer = os.urandom(100)
    digest, _ = push_image(client, "conf/del", "v1", [layer])
    assert client.request("DELETE", f"/v2/conf/del/manifests/{digest}").status == 202
    assert client.request("GET", f"/v2/conf/del/manifests/{digest}").codes == ["MANIFEST_UNKNOWN"]
    assert client.request("GET", "/v2/conf/del/manifests/v1").status == 404
    assert client.request("DELETE", f"/v2/conf/del/blobs/{sha(layer)}").status == 202
    assert client.request("GET", f"/v2/conf/del/blobs/{sha(layer)}").codes == ["BLOB_UNKNOWN"]
    assert client.request("DELETE", f"/v2/conf/del/blobs/{sha(layer)}").status == 404


def test_base_endpoint(client):
    """spec.md "Determining support": GET /v2/ -> 200 with the API version header."""
    reply = client.request("GET", "/v2/")
    assert reply.status == 200 and reply.headers["docker-distribution-api-version"] == "registry/2.0"

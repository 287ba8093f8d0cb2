"""`GET /images/json` and image prune filters (engine/images/filters.py): a table over the pure
rules, Go's path.Match for references, and the image service over the fakes."""

from __future__ import annotations

import io
import time

import pytest

from dockyard.engine.images.filters import compile_filters, path_pattern
from dockyard.errors import InvalidArgument, NoSuchImage
from dockyard.images.importer import import_rootfs
from tests.engine.harness import rootfs_tar

CREATED = {"old": 100.0, "mid": 200.0, "new": 300.0}


@pytest.mark.parametrize(
    ("pattern", "name", "matched"),
    [
        ("busybox", "busybox:latest", False),  # the whole reference must match (refs() tries the name too)
        ("busy*", "busybox:latest", True),
        ("busybox:1.*", "busybox:1.36", True),
        ("*", "library/busybox", False),  # `*` stops at `/`
        ("*/*", "me/app", True),
        ("me/ap?", "me/app", True),
        ("me/[a-b]pp", "me/app", True),
        ("me/[^a]pp", "me/app", False),
    ],
)
def test_reference_patterns_as_go_path_match(pattern, name, matched):
    assert bool(path_pattern(pattern).fullmatch(name)) == matched


@pytest.mark.parametrize(
    ("filters", "kept"),
    [
        ({}, {"old", "mid", "new"}),
        ({"before": ["mid"]}, {"old"}),
        ({"since": ["mid"]}, {"new"}),
        ({"since": ["old"], "before": ["new"]}, {"mid"}),
        ({"until": ["250"]}, {"old", "mid"}),
        ({"until": ["1970-01-01T00:02:30Z"]}, {"old"}),
        ({"label": ["k=old"]}, {"old"}),
        ({"label": ["k"]}, {"old", "mid", "new"}),
    ],
)
def test_time_and_label_table(filters, kept):
    chosen = compile_filters(filters, CREATED.__getitem__)
    assert {n for n, t in CREATED.items() if chosen.keeps(t, {"k": n})} == kept


@pytest.mark.parametrize(
    ("filters", "untagged", "tagged", "digest_only"),
    [
        ({}, True, True, True),
        ({"dangling": ["true"]}, True, False, True),
        ({"dangling": ["1"]}, True, False, True),
        ({"dangling": ["false"]}, False, True, True),  # as dockerd: an image with a digest is no orphan
        ({"reference": ["app"]}, False, True, False),  # a tag matches on its name alone
        ({"reference": ["app:2"]}, False, False, False),
    ],
)
def test_dangling_and_reference_table(filters, untagged, tagged, digest_only):
    chosen = compile_filters(filters, CREATED.__getitem__)
    shown = (
        chosen.shown(chosen.refs([]), chosen.refs([])),
        chosen.shown(chosen.refs(["app:1"]), chosen.refs([])),
        chosen.shown(chosen.refs([]), chosen.refs(["other@sha256:" + "a" * 64])),
    )
    assert shown == (untagged, tagged, digest_only)


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"dangling": ["maybe"]}, r"Invalid filter 'dangling=\[maybe\]'"),
        ({"dangling": ["true", "false"]}, r"Invalid filter 'dangling=\[true false\]'"),
        ({"until": ["bogus"]}, 'failed to parse value as time or duration: "bogus"'),
        ({"reference": ["a["]}, "syntax error in pattern"),
    ],
)
def test_bad_values_are_400s(filters, message):
    with pytest.raises(InvalidArgument, match=message):
        compile_filters(filters, CREATED.__getitem__)


def _import(engine, tag: str | None, label: str):
    image = import_rootfs(engine.images, io.BytesIO(rootfs_tar()), [f"LABEL k={label}"], None, None)
    if tag:
        engine.images.tag(image.id, tag)
    time.sleep(0.01)  # distinct creation times
    return image.id


def _tags(engine, filters) -> list[list[str]]:
    return sorted(s["RepoTags"] for s in engine.image_backend.list(all=False, filters=filters, digests=False))


def test_image_service_list_and_prune(engine):
    first = _import(engine, "me/app:1", "first")
    _import(engine, "me/app:2", "second")
    loose = _import(engine, None, "loose")
    assert _tags(engine, {"reference": ["me/app:1"]}) == [["me/app:1"]]
    assert _tags(engine, {"reference": ["me/*"]}) == [["me/app:1"], ["me/app:2"]]
    assert _tags(engine, {"since": ["me/app:1"], "dangling": ["false"]}) == [["me/app:2"]]
    assert _tags(engine, {"before": ["me/app:2"], "label": ["k=first"]}) == [["me/app:1"]]
    assert _tags(engine, {"dangling": ["true"]}) == [[]]
    with pytest.raises(NoSuchImage):
        engine.image_backend.list(all=False, filters={"before": ["nosuch"]}, digests=False)
    with pytest.raises(InvalidArgument):
        engine.image_backend.prune({"dangling": ["maybe"]})
    assert engine.image_backend.prune({"dangling": ["false"], "label": ["k=nothing"]})["ImagesDeleted"] is None
    deleted = engine.image_backend.prune({"dangling": ["false"], "label!": ["k=second"], "until": ["0s"]})
    gone = {entry.get("Deleted") for entry in deleted["ImagesDeleted"]}
    assert {first, loose} <= gone
    assert _tags(engine, {"reference": ["me/app"]}) == [["me/app:2"]]


def test_tag_and_untag_events_name_the_reference_then_the_image_id(engine):
    import time

    start = time.time()
    engine.image_backend.tag("busybox", "other", "v1")
    image_id = engine.images.resolve("other:v1").id
    engine.image_backend.remove("other:v1", force=False, noprune=False)
    events = list(engine.events.subscribe(start, time.time(), {"type": ["image"]}))
    assert [(e["Action"], e["Actor"]["Attributes"]["name"]) for e in events] == [
        ("tag", "other:v1"),
        ("untag", image_id),
    ]


def test_tag_refusals_in_moby_words(engine):
    with pytest.raises(InvalidArgument, match=r"^invalid tag format$"):
        engine.image_backend.tag("busybox", "other", "bad:tag")
    with pytest.raises(InvalidArgument, match=r"repository name \(library/UPPER\) must be lowercase$"):
        engine.image_backend.tag("busybox", "UPPER", "bad:tag")  # the repository is parsed first

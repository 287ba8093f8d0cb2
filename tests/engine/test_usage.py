"""The pure core of GET /system/df: image footprints, shared parts, containers per image."""

from __future__ import annotations

from dockyard.engine.system.usage import image_usage


def test_shared_parts_and_users():
    parts = {
        "a": {"layer:base": 1000, "blob:base": 400, "blob:a-config": 10},
        "b": {"layer:base": 1000, "blob:base": 400, "layer:b": 50, "blob:b-config": 20},
    }
    found = image_usage([{"Id": "a", "Size": 1}, {"Id": "b", "Size": 1}, {"Id": "c"}], parts, ["a", "a", "x"])
    assert [(e["Id"], e["Size"], e["SharedSize"], e["Containers"]) for e in found] == [
        ("a", 1410, 1400, 2),
        ("b", 1470, 1400, 0),
        ("c", 0, 0, 0),
    ]

"""Pure tables: what a layer entry does, and which names the safety filter lets through."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.archive.safety import ROOT, clean_name, layer_filter
from dockyard.archive.tarformat import EntryType, Member
from dockyard.archive.whiteouts import Keep, Opaque, Remove, classify, opaque_name, whiteout_name
from dockyard.errors import InvalidArgument

DEST = Path("/var/lib/dockyard/tmp/layer-x/diff")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("etc/passwd", Keep("etc/passwd")),
        ("etc/.wh.passwd", Remove("etc/passwd")),
        (".wh.etc", Remove("etc")),
        ("var/cache/.wh..wh..opq", Opaque("var/cache")),
        (".wh..wh..opq", Opaque("")),
        ("etc/.whx", Keep("etc/.whx")),
        ("etc/x.wh.y", Keep("etc/x.wh.y")),
    ],
)
def test_classify(name: str, expected: object) -> None:
    assert classify(name) == expected


def test_whiteout_names_invert_classify() -> None:
    assert classify(whiteout_name("a/b/c")) == Remove("a/b/c")
    assert classify(whiteout_name("top")) == Remove("top")
    assert classify(opaque_name("a/b")) == Opaque("a/b")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("etc/x", "etc/x"),
        ("/etc/x", "etc/x"),
        ("./etc/x", "etc/x"),
        ("etc//x/", "etc/x"),
        ("a/../b", "b"),
        ("./", ROOT),
        ("/", ROOT),
    ],
)
def test_clean_name_accepts(name: str, expected: str) -> None:
    assert clean_name(name, DEST) == expected


@pytest.mark.parametrize("name", ["../x", "a/../../x", "/../x", "..", "./../x", "", "a\0b"])
def test_clean_name_refuses(name: str) -> None:
    with pytest.raises(InvalidArgument):
        clean_name(name, DEST)


def test_escape_message_names_entry_and_destination() -> None:
    with pytest.raises(InvalidArgument, match=r'"\.\./x" is outside of "/var/lib'):
        clean_name("../x", DEST)


def _member(name: str, kind: EntryType = EntryType.REGULAR, link: str = "") -> Member:
    return Member(name=name, type=kind, linkname=link, uid=1000, gid=1000, mode=0o4755)


@pytest.mark.parametrize(
    "member",
    [
        _member("../x"),
        _member("a/../../x"),
        _member("x", EntryType.HARDLINK, "../x"),
        _member("x", EntryType.HARDLINK, "/../etc/passwd"),
        _member("x", EntryType.HARDLINK, "x"),
        _member("x", EntryType.HARDLINK, "./"),
        _member("./", EntryType.REGULAR),
        _member("/", EntryType.SYMLINK, "/etc"),
        _member("a/.wh.."),
        _member("a/.wh."),
        _member("a/.wh.."),
    ],
)
def test_layer_filter_refuses(member: Member) -> None:
    with pytest.raises(InvalidArgument):
        layer_filter(member, DEST)


def test_layer_filter_keeps_ownership_modes_devices_and_outward_symlinks() -> None:
    device = Member(name="/dev/null", type=EntryType.CHAR, devmajor=1, devminor=3, mode=0o666)
    assert layer_filter(device, DEST) == Member(
        name="dev/null", type=EntryType.CHAR, devmajor=1, devminor=3, mode=0o666
    )
    setuid = _member("usr/bin/su")
    assert layer_filter(setuid, DEST) is setuid
    symlink = _member("etc/mtab", EntryType.SYMLINK, "/proc/self/mounts")
    assert layer_filter(symlink, DEST) is symlink
    hardlink = _member("bin/b", EntryType.HARDLINK, "/bin/a")
    assert layer_filter(hardlink, DEST).linkname == "bin/a"

"""Pure tests of `--user` resolution (and one reading files from a rootfs)."""

import os

import pytest

from dockyard.errors import InvalidArgument
from dockyard.runtime.user import lookup_user, parse_group, parse_passwd, resolve_user

PASSWD = parse_passwd(
    "root:x:0:0:root:/root:/bin/sh\n# comment\napp:x:1000:1000::/home/app:/bin/sh\nbroken:x:notanumber:1::/:\n"
)
GROUPS = parse_group("root:x:0:\nstaff:x:50:app,other\napp:x:1000:\nwheel:x:10:root\n")


@pytest.mark.parametrize(
    "user,expected",
    [
        ("", (0, 0, (10,))),
        ("root", (0, 0, (10,))),
        ("app", (1000, 1000, (50,))),
        ("1000", (1000, 1000, (50,))),
        ("4242", (4242, 0, ())),
        ("app:staff", (1000, 50, ())),
        ("app:77", (1000, 77, ())),
        ("4242:4343", (4242, 4343, ())),
        (":50", (0, 50, ())),
    ],
)
def test_lookup(user, expected):
    assert lookup_user(user, PASSWD, GROUPS) == expected


def test_unknown_user_has_dockers_message():
    with pytest.raises(InvalidArgument, match="unable to find user bob: no matching entries in passwd file"):
        lookup_user("bob", PASSWD, GROUPS)


def test_unknown_group_has_dockers_message():
    with pytest.raises(InvalidArgument, match="unable to find group ghosts: no matching entries in group file"):
        lookup_user("app:ghosts", PASSWD, GROUPS)


def test_out_of_range_id():
    with pytest.raises(InvalidArgument, match="range 0-2147483647"):
        lookup_user("99999999999", PASSWD, GROUPS)


def test_parser_skips_bad_lines():
    assert [e.name for e in PASSWD] == ["root", "app"]
    assert GROUPS[1].members == ("app", "other")


def test_resolve_reads_rootfs_and_stays_inside(tmp_path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "lib").mkdir()
    (root / "lib" / "passwd").write_text("dev:x:1500:1500::/:/bin/sh\n")
    os.symlink("../lib/passwd", root / "etc" / "passwd")
    assert resolve_user(root, "dev") == (1500, 1500, ())
    # a link climbing out of the rootfs is clamped at its root
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "hostpw").write_text("escapee:x:7:7::/:/bin/sh\n")
    os.unlink(root / "etc" / "passwd")
    os.symlink("/../../etc/hostpw", root / "etc" / "passwd")
    with pytest.raises(InvalidArgument, match="unable to find user escapee"):
        resolve_user(root, "escapee")
    assert resolve_user(root, "123:456") == (123, 456, ())

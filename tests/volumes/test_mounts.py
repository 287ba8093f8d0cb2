"""Mount points from Docker's request fields (pure rules of engine/containers/mounts.py)."""

import pytest

from dockyard.engine.containers.mounts import (
    MountPoint,
    inherited,
    mount_points,
    oci_mounts,
    parse_bind,
    parse_mount,
    parse_volumes_from,
)
from dockyard.errors import InvalidArgument


def test_binds_named_volumes_and_modes_as_docker_shows_them():
    volume = parse_bind("data:/var/lib/data")
    assert (volume.type, volume.name, volume.mode, volume.rw, volume.copy) == ("volume", "data", "z", True, True)
    assert parse_bind("data:/d:ro,nocopy").to_inspect() == {
        "Type": "volume",
        "Name": "data",
        "Source": "",
        "Destination": "/d",
        "Driver": "local",
        "Mode": "ro,nocopy",
        "RW": False,
        "Propagation": "",
    }
    assert not parse_bind("data:/d:nocopy").copy
    bind = parse_bind("/srv/x:/x:ro,z")
    assert bind.to_inspect() == {
        "Type": "bind",
        "Source": "/srv/x",
        "Destination": "/x",
        "Mode": "ro,z",
        "RW": False,
        "Propagation": "rprivate",
    }
    assert bind.create_source  # -v makes a missing host directory, as dockerd does
    assert parse_bind("/srv:/srv:rshared").propagation == "rshared"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("/a", "invalid volume specification: '/a'"),
        ("a:b", "mount path must be absolute"),
        ("/a:/b:rw,ro", "invalid mode: rw,ro"),
        ("/a:/b:bogus", "invalid mode: bogus"),
        ("/a:/b:nocopy", "invalid mode: nocopy"),
        ("/a:/", "destination can't be '/'"),
        ("a:b:c:d", "invalid volume specification"),
    ],
)
def test_bad_binds_are_refused_in_dockers_words(spec, message):
    with pytest.raises(InvalidArgument, match=message):
        parse_bind(spec)


def test_mount_entries_of_each_type():
    bind = parse_mount({"Type": "bind", "Source": "/s", "Target": "/t", "BindOptions": {"Propagation": "rslave"}})
    assert (bind.propagation, bind.mode, bind.create_source) == ("rslave", "", False)
    volume = parse_mount({"Type": "volume", "Target": "/v", "VolumeOptions": {"NoCopy": True}, "ReadOnly": True})
    assert (volume.anonymous, volume.copy, volume.rw) == (True, False, False)
    tmpfs = parse_mount({"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 1 << 20, "Mode": 0o1770}})
    assert tmpfs.options == ("size=1048576", "mode=1770")
    assert oci_mounts([tmpfs])[0] == {
        "destination": "/t",
        "type": "tmpfs",
        "source": "tmpfs",
        "options": ["nosuid", "nodev", "size=1048576", "mode=1770"],
    }
    nonrecursive = parse_mount({"Type": "bind", "Source": "/s", "Target": "/t", "BindOptions": {"NonRecursive": True}})
    assert oci_mounts([nonrecursive])[0]["options"] == ["bind", "rprivate"]


@pytest.mark.parametrize(
    ("mount", "message"),
    [
        ({"Type": "foo", "Target": "/x"}, 'invalid mount config for type "foo": mount type unknown'),
        ({"Type": "bind", "Target": "/x"}, "field Source must not be empty"),
        ({"Type": "volume", "Source": "v"}, "field Target must not be empty"),
        ({"Type": "volume", "Target": "x"}, "mount path must be absolute"),
        ({"Type": "tmpfs", "Source": "s", "Target": "/x"}, "field Source must not be specified"),
        ({"Type": "bind", "Source": "/s", "Target": "/x", "VolumeOptions": {"NoCopy": True}}, "VolumeOptions"),
        ({"Type": "tmpfs", "Target": "/x", "TmpfsOptions": {"Options": [["exotic", "1"]]}}, "invalid tmpfs option"),
        ({"Type": "volume", "Target": "/x", "VolumeOptions": {"Subpath": "a"}}, "not supported"),
    ],
)
def test_bad_mount_entries_are_refused(mount, message):
    with pytest.raises(InvalidArgument, match=message):
        parse_mount(mount)


def test_precedence_volumes_from_then_binds_then_mounts_then_image_volumes():
    shared = [MountPoint("volume", "/data", name="old"), MountPoint("volume", "/keep", name="kept")]
    points = mount_points(
        {"Volumes": {"/data": {}, "/anon": {}, "/keep": {}}},
        {"Binds": ["new:/data"], "Mounts": [{"Type": "tmpfs", "Target": "/t"}], "Tmpfs": {"/run": "size=1m"}},
        shared,
    )
    by_dest = {p.destination: p for p in points}
    assert by_dest["/data"].name == "new"
    assert by_dest["/keep"].name == "kept"
    assert by_dest["/anon"].anonymous
    assert not by_dest["/run"].listed and by_dest["/run"].options[-1] == "size=1m"


def test_a_destination_given_twice_is_a_400():
    with pytest.raises(InvalidArgument, match="Duplicate mount point: /x"):
        mount_points({}, {"Binds": ["a:/x"], "Mounts": [{"Type": "volume", "Target": "/x"}]}, [])


def test_volumes_from_modes():
    points = [MountPoint("volume", "/v", name="v"), MountPoint("tmpfs", "/t"), MountPoint("bind", "/b", source="/s")]
    assert [p.destination for p in inherited(points, "")] == ["/v", "/b"]
    assert all(not p.rw for p in inherited(points, "ro"))
    assert parse_volumes_from("other:ro") == ("other", "ro")
    with pytest.raises(InvalidArgument, match="invalid mode: z"):
        parse_volumes_from("other:z")


def test_spec_mounts_put_parents_first_and_apply_read_only():
    points = [MountPoint("bind", "/a/b/c", source="/x", rw=False), MountPoint("volume", "/a", source="/v")]
    mounts = oci_mounts(points)
    assert [m["destination"] for m in mounts] == ["/a", "/a/b/c"]
    assert mounts[1]["options"] == ["rbind", "rprivate", "rro"]  # API 1.44: read-only all the way down


def test_read_only_binds_are_recursive_unless_asked_otherwise():
    def options(mount: dict) -> list[str]:
        return oci_mounts([parse_mount({"Type": "bind", "Source": "/s", "Target": "/t", **mount})])[0]["options"]

    assert options({"ReadOnly": True})[-1] == "rro"
    assert options({"ReadOnly": True, "BindOptions": {"Propagation": "rslave"}})[-1] == "ro"
    with pytest.raises(InvalidArgument, match="requires Propagation to be 'rprivate'"):
        options({"ReadOnly": True, "BindOptions": {"ReadOnlyForceRecursive": True, "Propagation": "rshared"}})
    assert options({"ReadOnly": True, "BindOptions": {"ReadOnlyForceRecursive": True}})[-1] == "rro"
    assert options({"ReadOnly": True, "BindOptions": {"ReadOnlyNonRecursive": True}})[-1] == "ro"
    assert options({"ReadOnly": True, "BindOptions": {"NonRecursive": True}})[:1] == ["bind"]
    assert options({"ReadOnly": True, "BindOptions": {"NonRecursive": True}})[-1] == "ro"
    assert "ro" not in options({}) and "rro" not in options({})
    assert oci_mounts([parse_bind("/s:/t:ro")])[0]["options"][-1] == "rro"
    with pytest.raises(InvalidArgument, match="must not set ReadOnlyForceRecursive when ReadOnly is false"):
        options({"BindOptions": {"ReadOnlyForceRecursive": True}})
    with pytest.raises(InvalidArgument, match="must not set both"):
        options({"ReadOnly": True, "BindOptions": {"ReadOnlyNonRecursive": True, "ReadOnlyForceRecursive": True}})


def test_records_round_trip():
    point = parse_mount({"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 4096}})
    assert MountPoint.from_record(point.to_record()) == point


def test_cli_mount_keys_for_recursion_reach_the_daemon_rules():
    from dockyard.cli.mountspec import parse_mount as cli_mount

    entry = cli_mount("type=bind,src=/s,dst=/t,bind-recursive=disabled")
    assert entry["BindOptions"] == {"NonRecursive": True}
    assert parse_mount(entry).non_recursive
    forced = cli_mount("type=bind,src=/s,dst=/t,readonly,bind-recursive=readonly,bind-propagation=rprivate")
    assert oci_mounts([parse_mount(forced)])[0]["options"][-1] == "rro"
    with pytest.raises(InvalidArgument, match="requires 'bind-propagation=rprivate'"):
        cli_mount("type=bind,src=/s,dst=/t,readonly,bind-recursive=readonly")
    with pytest.raises(InvalidArgument, match="'bind-recursive=writable' requires 'readonly'"):
        cli_mount("type=bind,src=/s,dst=/t,bind-recursive=writable")
    assert parse_mount(cli_mount("type=bind,src=/s,dst=/t,readonly,bind-recursive=writable")).readonly_non_recursive
    with pytest.raises(InvalidArgument, match="invalid value for bind-recursive"):
        cli_mount("type=bind,src=/s,dst=/t,bind-recursive=maybe")

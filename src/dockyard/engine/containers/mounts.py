"""A container's mounts, pure: Binds, Mounts, Tmpfs, VolumesFrom and the image's VOLUMEs turned
into mount points (what inspect shows as `Mounts`), and mount points into OCI spec mounts.

Precedence, as moby's registerMountPoints: `--volumes-from` first, then `-v` binds over them,
then `--mount` (a destination given twice by these is a 400), then an anonymous volume for
each Config.Volumes path (image VOLUME, `-v /path`) that nothing else covers.

    -v name:/data[:ro]        volume "name" (created on first use), Mode "z" by default
    -v /host:/path[:ro,z]     bind, Propagation "rprivate", a missing /host made at start
    -v /path, VOLUME /path    anonymous volume (a random name, removed by rm -v and --rm)
    --mount type=bind|volume|tmpfs,...   HostConfig.Mounts, Docker's validation and words
    --tmpfs /path:size=1m     HostConfig.Tmpfs: a spec mount only, not listed in `Mounts`
"""

from __future__ import annotations

import posixpath
from dataclasses import asdict, dataclass, replace

from dockyard.errors import InvalidArgument
from dockyard.runtime.mounts import parse_options

PROPAGATIONS = ("private", "rprivate", "shared", "rshared", "slave", "rslave")
_TMPFS_DATA = ("size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol", "huge", "noswap", "inode64")


@dataclass(frozen=True, slots=True)
class MountPoint:
    """One bind, volume or tmpfs mount of a container; stored in its record."""

    type: str  # bind, volume, tmpfs
    destination: str
    source: str = ""  # host path of a bind; a volume's _data once known
    name: str = ""  # the volume's name
    mode: str = ""
    rw: bool = True
    propagation: str = ""
    copy: bool = True  # copy-up of image content into an empty volume
    anonymous: bool = False  # the volume is to be created with a random name
    declared: bool = False  # from Config.Volumes (an image's VOLUME, the CLI's `-v /path`)
    create_source: bool = False  # a -v bind: the host directory is made when missing
    non_recursive: bool = False
    readonly_non_recursive: bool = False  # read-only itself, mounts below it keep their own mode
    options: tuple[str, ...] = ()  # tmpfs data (size=, mode=)
    listed: bool = True  # shown in inspect's Mounts (not for HostConfig.Tmpfs)

    def to_record(self) -> dict:
        return asdict(self)

    @classmethod
    def from_record(cls, data: dict) -> MountPoint:
        return cls(**{**data, "options": tuple(data.get("options") or ())})

    def to_inspect(self) -> dict:
        """Docker's MountPoint JSON."""
        shown = {"Type": self.type}
        if self.type == "volume":
            shown["Name"] = self.name
        shown |= {"Source": self.source, "Destination": self.destination}
        if self.type == "volume":
            shown["Driver"] = "local"
        return shown | {"Mode": self.mode, "RW": self.rw, "Propagation": self.propagation}


def _invalid(kind: str, message: str) -> InvalidArgument:
    return InvalidArgument(f'invalid mount config for type "{kind}": {message}')


def _destination(path: str, kind: str, spec: str | None = None) -> str:
    if not path.startswith("/"):
        prefix = f"invalid volume specification: '{spec}': " if spec is not None else ""
        raise InvalidArgument(
            f"{prefix}invalid mount config for type \"{kind}\": invalid mount path: '{path}' mount path must be absolute"
        )
    cleaned = posixpath.normpath(path)
    if cleaned == "/":
        raise InvalidArgument("invalid specification: destination can't be '/'")
    return cleaned


def parse_bind(spec: str) -> MountPoint:
    """One `-v`/Binds string `source:destination[:mode]`."""
    parts = spec.split(":")
    if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
        raise InvalidArgument(f"invalid volume specification: '{spec}'")
    source, mode = parts[0], parts[2] if len(parts) == 3 else ""
    kind = "bind" if source.startswith("/") else "volume"
    destination = _destination(parts[1], kind, spec)
    words = [w for w in mode.split(",") if w]
    _check_mode(words, kind, mode)
    propagation = next((w for w in words if w in PROPAGATIONS), "")
    readonly = "ro" in words
    if kind == "bind":
        return MountPoint(
            "bind",
            destination,
            source=posixpath.normpath(source),
            mode=mode,
            rw=not readonly,
            propagation=propagation or "rprivate",
            create_source=True,
        )
    return MountPoint("volume", destination, name=source, mode=mode or "z", rw=not readonly, copy="nocopy" not in words)


def _check_mode(words: list[str], kind: str, mode: str) -> None:
    allowed = {"ro", "rw", "z", "Z", "nocopy", "consistent", "cached", "delegated", *PROPAGATIONS}
    groups = (("ro", "rw"), ("z", "Z"), PROPAGATIONS, ("consistent", "cached", "delegated"))
    bad = any(w not in allowed for w in words) or any(sum(w in g for w in words) > 1 for g in groups)
    if bad or len(set(words)) != len(words) or (kind == "bind" and "nocopy" in words):
        raise InvalidArgument(f"invalid mode: {mode}")


def parse_mount(mount: dict) -> MountPoint:
    """One HostConfig.Mounts entry, validated as moby's mounts.Validate does."""
    kind = mount.get("Type") or ""
    if kind not in ("bind", "volume", "tmpfs"):
        raise _invalid(kind, "mount type unknown")
    target = mount.get("Target") or ""
    if not target:
        raise _invalid(kind, "field Target must not be empty")
    destination = _destination(target, kind)
    for section, owner in (("BindOptions", "bind"), ("VolumeOptions", "volume"), ("TmpfsOptions", "tmpfs")):
        if mount.get(section) and owner != kind:
            raise _invalid(kind, f"field {section} must not be specified")
    point = MountPoint(kind, destination, rw=not mount.get("ReadOnly"))
    if kind == "bind":
        return _bind_mount(mount, point)
    if kind == "volume":
        return _volume_mount(mount, point)
    return _tmpfs_mount(mount, point)


def _bind_mount(mount: dict, point: MountPoint) -> MountPoint:
    source = mount.get("Source") or ""
    if not source:
        raise _invalid("bind", "field Source must not be empty")
    if not source.startswith("/"):
        raise _invalid("bind", f"invalid mount path: '{source}' mount path must be absolute")
    options = mount.get("BindOptions") or {}
    propagation = options.get("Propagation") or "rprivate"
    if propagation not in PROPAGATIONS:
        raise _invalid("bind", f"invalid propagation mode: {propagation}")
    for name in ("ReadOnlyNonRecursive", "ReadOnlyForceRecursive"):
        if options.get(name) and point.rw:
            raise _invalid("bind", f"must not set {name} when ReadOnly is false")
    if options.get("ReadOnlyNonRecursive") and options.get("ReadOnlyForceRecursive"):
        raise _invalid("bind", "must not set both ReadOnlyNonRecursive and ReadOnlyForceRecursive")
    if options.get("ReadOnlyForceRecursive") and propagation != "rprivate":
        raise _invalid("bind", "ReadOnlyForceRecursive requires Propagation to be 'rprivate'")
    return replace(
        point,
        source=posixpath.normpath(source),
        propagation=propagation,
        non_recursive=bool(options.get("NonRecursive")),
        readonly_non_recursive=bool(options.get("ReadOnlyNonRecursive")),
        create_source=bool(options.get("CreateMountpoint")),
    )


def _volume_mount(mount: dict, point: MountPoint) -> MountPoint:
    options = mount.get("VolumeOptions") or {}
    if options.get("Subpath"):
        raise InvalidArgument("VolumeOptions.Subpath (volume-subpath) is not supported")
    driver = (options.get("DriverConfig") or {}).get("Name") or "local"
    if driver != "local":
        raise InvalidArgument(f'volume driver "{driver}" is not supported: only "local"')
    name = mount.get("Source") or ""
    return replace(point, name=name, anonymous=not name, mode="z" if name else "", copy=not options.get("NoCopy"))


def _tmpfs_mount(mount: dict, point: MountPoint) -> MountPoint:
    if mount.get("Source"):
        raise _invalid("tmpfs", "field Source must not be specified")
    options = mount.get("TmpfsOptions") or {}
    data = []
    if options.get("SizeBytes"):
        if options["SizeBytes"] < 0:
            raise _invalid("tmpfs", f"invalid tmpfs size {options['SizeBytes']}")
        data.append(f"size={options['SizeBytes']}")
    if options.get("Mode"):
        data.append(f"mode={options['Mode']:o}")
    for pair in options.get("Options") or []:
        data.append("=".join(pair))
    return replace(point, options=tuple(_tmpfs_options(",".join(data))))


def _tmpfs_options(text: str) -> list[str]:
    """`size=64m,mode=1770,noexec` checked: mount flags and tmpfs's own keys only."""
    words = [w for w in text.split(",") if w]
    data = parse_options(words).data
    for item in [d for d in data.split(",") if d]:
        if item.partition("=")[0] not in _TMPFS_DATA:
            raise InvalidArgument(f"invalid tmpfs option {item!r}")
    return words


def parse_tmpfs(destination: str, options: str) -> MountPoint:
    """One HostConfig.Tmpfs entry: a spec mount with Docker's defaults, not listed in Mounts."""
    return MountPoint(
        "tmpfs",
        _destination(destination, "tmpfs"),
        options=("noexec", "nosuid", "nodev", *_tmpfs_options(options or "")),
        listed=False,
    )


def parse_volumes_from(spec: str) -> tuple[str, str]:
    """`container[:ro|rw]` -> (container, mode)."""
    container, _, mode = spec.partition(":")
    if not container or mode not in ("", "ro", "rw"):
        raise InvalidArgument(f"invalid mode: {mode}" if container else f"invalid volumes-from: {spec!r}")
    return container, mode


def inherited(points: list[MountPoint], mode: str) -> list[MountPoint]:
    """Another container's binds and volumes for --volumes-from, read-only with :ro."""
    shared = [p for p in points if p.type in ("bind", "volume")]
    if not mode:
        return [replace(p, anonymous=False) for p in shared]
    return [replace(p, rw=mode == "rw", mode=mode, anonymous=False) for p in shared]


def mount_points(config: dict, host_config: dict, volumes_from: list[MountPoint]) -> list[MountPoint]:
    """Every mount point of a new container, in precedence order; Raises InvalidArgument."""
    chosen: dict[str, MountPoint] = {p.destination: p for p in volumes_from}
    given: set[str] = set()
    for spec in host_config.get("Binds") or []:
        point = parse_bind(spec)
        if point.destination in given:
            raise InvalidArgument(f"Duplicate mount point: {point.destination}")
        given.add(point.destination)
        chosen[point.destination] = point
    for entry in host_config.get("Mounts") or []:
        point = parse_mount(entry)
        if point.destination in given:
            raise InvalidArgument(f"Duplicate mount point: {point.destination}")
        given.add(point.destination)
        chosen[point.destination] = point
    for destination, options in (host_config.get("Tmpfs") or {}).items():
        point = parse_tmpfs(destination, options)
        if point.destination in given:
            raise InvalidArgument(f"Duplicate mount point: {point.destination}")
        given.add(point.destination)
        chosen[point.destination] = point
    for path in config.get("Volumes") or {}:
        destination = _destination(path, "volume")
        if destination not in chosen:
            chosen[destination] = MountPoint("volume", destination, anonymous=True, declared=True)
    return list(chosen.values())


def oci_mounts(points: list[MountPoint]) -> list[dict]:
    """The spec mounts, parents before children (sorted by depth, as moby)."""
    mounts = []
    for point in sorted(points, key=lambda p: p.destination.count("/")):
        if point.type == "tmpfs":
            options = ["nosuid", "nodev", *point.options, *([] if point.rw else ["ro"])]
            mounts.append({"destination": point.destination, "type": "tmpfs", "source": "tmpfs", "options": options})
            continue
        options = ["bind" if point.non_recursive else "rbind", point.propagation or "rprivate"]
        if not point.rw:  # API 1.44: read-only all the way down (kernel >= 5.12), for rprivate binds
            options.append("rro" if _recursive_ro(point) else "ro")
        mounts.append({"destination": point.destination, "type": "bind", "source": point.source, "options": options})
    return mounts


def _recursive_ro(point: MountPoint) -> bool:
    shared = (point.propagation or "rprivate") != "rprivate"  # a read-only copy must not spread
    return not (point.readonly_non_recursive or point.non_recursive or shared)


def points_of(record: list[dict]) -> list[MountPoint]:
    return [MountPoint.from_record(item) for item in record]

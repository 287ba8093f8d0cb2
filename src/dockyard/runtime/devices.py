"""Host device nodes as OCI `linux.devices` entries, and device cgroup rules (pure parsing).

`--device /dev/sda:/dev/xvda:r` becomes one node made in the container's /dev plus one
cgroup rule allowing `b 8:0 r`; a directory adds every device under it; `--privileged`
adds every device of the host's /dev, as runc's HostDevices does (pts, shm, mqueue and
the console excluded: the container has its own).
"""

from __future__ import annotations

import os
import re
import stat
from typing import Any

SKIPPED = {"pts", "shm", "mqueue", "fd", ".lxc", ".lxd-mounts", ".udev", "console"}
RULE = re.compile(r"^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$")


def device_from_path(path: str, container_path: str | None = None) -> dict[str, Any]:
    """The OCI device for the node at host `path`. Raises OSError (ENOENT, or ENODEV: not a device)."""
    st = os.stat(path)
    if stat.S_ISBLK(st.st_mode):
        kind = "b"
    elif stat.S_ISCHR(st.st_mode):
        kind = "c"
    else:
        raise OSError(19, "not a device node", path)
    return {
        "path": container_path or path,
        "type": kind,
        "major": os.major(st.st_rdev),
        "minor": os.minor(st.st_rdev),
        "fileMode": stat.S_IMODE(st.st_mode),
        "uid": st.st_uid,
        "gid": st.st_gid,
    }


def devices_under(host_path: str, container_path: str) -> list[dict[str, Any]]:
    """A device, or every device below a directory (mapped below `container_path`)."""
    if not os.path.isdir(host_path):
        return [device_from_path(host_path, container_path)]
    found = []
    for directory, dirs, files in os.walk(host_path):
        dirs[:] = [d for d in dirs if d not in SKIPPED or directory != host_path]
        for name in sorted(files):
            full = os.path.join(directory, name)
            if directory == host_path and name in SKIPPED:
                continue
            try:
                found.append(device_from_path(full, os.path.join(container_path, os.path.relpath(full, host_path))))
            except OSError:
                continue  # a regular file, a socket or a node that vanished
    return found


def host_devices(root: str = "/dev") -> list[dict[str, Any]]:
    """Every device node of the host, for --privileged."""
    return devices_under(root, "/dev")


def parse_rule(text: str) -> dict[str, Any]:
    """`c 1:3 rwm` / `b *:* m` / `a *:* rwm` -> an OCI allow rule. Raises ValueError."""
    match = RULE.match(text.strip())
    if not match:
        raise ValueError(text)
    kind, major, minor, access = match.groups()
    return {
        "allow": True,
        "type": kind,
        "major": None if major == "*" else int(major),
        "minor": None if minor == "*" else int(minor),
        "access": access,
    }


def allow_rule(device: dict[str, Any], access: str) -> dict[str, Any]:
    """The cgroup rule that lets a container use `device` with `access` (r, w, m)."""
    return {"allow": True, "type": device["type"], "major": device["major"], "minor": device["minor"], "access": access}

"""The files every container gets: /etc/hostname, /etc/hosts, /etc/resolv.conf.

Until the network package renders them per network, a container on its own network
namespace knows only loopback, and resolves names with the host's non-loopback resolvers.
"""

from __future__ import annotations

import os
from pathlib import Path

HOST_RESOLV_CONF = Path("/etc/resolv.conf")
FALLBACK_NAMESERVERS = ("8.8.8.8", "8.8.4.4")


def render_hosts(hostname: str, address: str | None = None) -> str:
    lines = [
        "127.0.0.1\tlocalhost",
        "::1\tlocalhost ip6-localhost ip6-loopback",
        "fe00::0\tip6-localnet",
        "ff00::0\tip6-mcastprefix",
        "ff02::1\tip6-allnodes",
        "ff02::2\tip6-allrouters",
    ]
    if address:
        lines.append(f"{address}\t{hostname}")
    return "\n".join(lines) + "\n"


def render_resolv_conf(host_text: str) -> str:
    """The host's resolv.conf without loopback nameservers (unreachable from a container)."""
    kept, servers = [], 0
    for line in host_text.splitlines():
        words = line.split()
        if words[:1] == ["nameserver"] and len(words) > 1:
            if words[1].startswith("127.") or words[1] == "::1":
                continue
            servers += 1
        kept.append(line)
    if not servers:
        kept += [f"nameserver {server}" for server in FALLBACK_NAMESERVERS]
    return "\n".join(kept) + "\n"


def _write(path: Path, text: str) -> None:
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(text)
    os.replace(temp, path)


def write_container_files(directory: Path, hostname: str) -> None:
    try:
        host_resolv = HOST_RESOLV_CONF.read_text()
    except OSError:
        host_resolv = ""
    _write(directory / "hostname", hostname + "\n")
    _write(directory / "hosts", render_hosts(hostname))
    _write(directory / "resolv.conf", render_resolv_conf(host_resolv))

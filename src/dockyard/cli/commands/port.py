"""`dockyard port CONTAINER [PRIVATE_PORT[/PROTO]]`."""

from __future__ import annotations

import sys

from dockyard.cli.client import path_id
from dockyard.cli.flags import Parser
from dockyard.errors import NotFound


def port_lines(ports: dict, wanted: str | None) -> list[str]:
    """NetworkSettings.Ports -> 'PORT/PROTO -> HOST:PORT' lines (only 'HOST:PORT' for one port)."""
    if wanted and "/" not in wanted:
        wanted += "/tcp"
    lines = []
    for port in sorted(ports or {}, key=lambda p: (int(p.split("/")[0]), p)):
        if wanted and port != wanted:
            continue
        for binding in ports[port] or []:
            ip = binding.get("HostIp") or "0.0.0.0"
            host = f"[{ip}]:{binding.get('HostPort')}" if ":" in ip else f"{ip}:{binding.get('HostPort')}"
            lines.append(host if wanted else f"{port} -> {host}")
    return lines


def main(ctx, argv: list[str]) -> int:
    parser = Parser(
        ctx.prog, "CONTAINER [PRIVATE_PORT[/PROTO]]", "List port mappings or a specific mapping for the container"
    )
    parser.add_argument("container")
    parser.add_argument("port", nargs="?")
    ns = parser.parse(argv)
    info = ctx.client.get(f"/containers/{path_id(ns.container)}/json")
    lines = port_lines((info.get("NetworkSettings") or {}).get("Ports") or {}, ns.port)
    if ns.port and not lines:
        raise NotFound(
            f"Error: No public port '{ns.port if '/' in ns.port else ns.port + '/tcp'}' published for {ns.container}"
        )
    sys.stdout.write("".join(line + "\n" for line in lines))
    return 0

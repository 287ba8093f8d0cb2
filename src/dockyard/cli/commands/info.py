"""`dockyard info [--format FORMAT]`: system-wide information from GET /info."""

from __future__ import annotations

import sys

from dockyard.cli.flags import Parser
from dockyard.units import human_size

FIELDS = (
    (" Containers", "Containers"),
    ("  Running", "ContainersRunning"),
    ("  Paused", "ContainersPaused"),
    ("  Stopped", "ContainersStopped"),
    (" Images", "Images"),
    (" Server Version", "ServerVersion"),
    (" Storage Driver", "Driver"),
    (" Logging Driver", "LoggingDriver"),
    (" Cgroup Driver", "CgroupDriver"),
    (" Cgroup Version", "CgroupVersion"),
    (" Kernel Version", "KernelVersion"),
    (" Operating System", "OperatingSystem"),
    (" OSType", "OSType"),
    (" Architecture", "Architecture"),
    (" CPUs", "NCPU"),
    (" Name", "Name"),
    (" ID", "ID"),
    (" Docker Root Dir", "DockerRootDir"),
    (" Debug Mode", "Debug"),
)


def render_info(info: dict) -> str:
    lines = ["Server:"]
    for title, key in FIELDS:
        if key in info:
            value = info[key]
            lines.append(f"{title}: {str(value).lower() if isinstance(value, bool) else value}")
    if "MemTotal" in info:
        lines.append(f" Total Memory: {human_size(info['MemTotal'], 4)}")
    for title, key in ((" Registry Mirrors", "RegistryConfig"),):
        mirrors = (info.get(key) or {}).get("Mirrors") or []
        if mirrors:
            lines += [f"{title}:", *(f"  {m}" for m in mirrors)]
    for warning in info.get("Warnings") or []:
        lines.append(warning)
    return "\n".join(lines) + "\n"


def main(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "[OPTIONS]", "Display system-wide information")
    parser.add_argument("-f", "--format")
    ns = parser.parse(argv)
    info = ctx.client.get("/info") or {}
    if ns.format:
        from dockyard.cli.formatting import Template, to_json

        text = to_json(info) if ns.format == "json" else Template(ns.format).render(info)
        sys.stdout.write(text + "\n")
    else:
        sys.stdout.write(render_info(info))
    return 0

"""`dockyard version [--format FORMAT]`: client and server versions."""

from __future__ import annotations

import platform
import sys

from dockyard import API_VERSION, __version__
from dockyard.cli.flags import Parser
from dockyard.errors import DockyardError

CLIENT_TEMPLATE = """Client:
 Version:           {Version}
 API version:       {ApiVersion}
 Python version:    {GoVersion}
 OS/Arch:           {Os}/{Arch}
"""
SERVER_TEMPLATE = """
Server:
 Engine:
  Version:          {Version}
  API version:      {ApiVersion} (minimum version {MinAPIVersion})
  OS/Arch:          {Os}/{Arch}
  Kernel Version:   {KernelVersion}
"""


def client_info() -> dict:
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    return {
        "Version": __version__,
        "ApiVersion": API_VERSION,
        "GoVersion": platform.python_version(),
        "Os": "linux",
        "Arch": arch,
    }


def main(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "[OPTIONS]", "Show the dockyard version information")
    parser.add_argument("-f", "--format")
    ns = parser.parse(argv)
    data: dict = {"Client": client_info(), "Server": None}
    error = None
    try:
        data["Server"] = ctx.client.get("/version")
    except DockyardError as exc:
        error = exc
    if ns.format:
        from dockyard.cli.formatting import Template

        sys.stdout.write(Template(ns.format).render(data) + "\n")
    else:
        sys.stdout.write(CLIENT_TEMPLATE.format(**data["Client"]))
        if data["Server"]:
            server = {
                "Version": "",
                "ApiVersion": "",
                "MinAPIVersion": "",
                "Os": "",
                "Arch": "",
                "KernelVersion": "",
                **data["Server"],
            }
            sys.stdout.write(SERVER_TEMPLATE.format(**server))
    if error is not None:
        raise error
    return 0

"""`dockyard start [-a] [-i] [--detach-keys KEYS] CONTAINER...`."""

from __future__ import annotations

import sys

from dockyard.cli import attachment
from dockyard.cli.batch import each
from dockyard.cli.client import path_id
from dockyard.cli.flags import Parser, UsageError


def main(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "[OPTIONS] CONTAINER [CONTAINER...]", "Start one or more stopped containers")
    parser.add_argument("-a", "--attach", action="store_true")
    parser.add_argument("-i", "--interactive", action="store_true")
    parser.add_argument("--detach-keys")
    parser.add_argument("containers", nargs="+")
    ns = parser.parse(argv)
    if not (ns.attach or ns.interactive):
        code = each(ns.containers, lambda ref: ctx.client.call("POST", f"/containers/{path_id(ref)}/start"))
        if code:
            sys.stderr.write("Error: failed to start containers: " + ", ".join(ns.containers) + "\n")
        return code
    if len(ns.containers) > 1:
        raise UsageError("you cannot start and attach multiple containers at once")
    return start_attached(ctx, ns.containers[0], ns.interactive, ns.detach_keys)


def start_attached(ctx, ref: str, interactive: bool, detach_keys: str | None) -> int:
    """Attach, register a wait, start, stream, and return the exit code."""
    client = ctx.client
    info = client.get(f"/containers/{path_id(ref)}/json")
    config, container_id = info.get("Config") or {}, info["Id"]
    tty = bool(config.get("Tty"))
    stdin = interactive and bool(config.get("OpenStdin"))
    if not tty:
        attachment.proxy_signals(client, container_id)
    hijacked = attachment.open_attach(client, container_id, stdin, True, True, detach_keys)
    removed = (info.get("HostConfig") or {}).get("AutoRemove")
    wait = attachment.open_wait(client, container_id, "removed" if removed else "next-exit")
    client.call("POST", f"/containers/{path_id(container_id)}/start")
    if tty and sys.stdout.isatty():
        attachment.resize_with_terminal(client, container_id)
    outcome = attachment.stream(*hijacked, tty, stdin, detach_keys)
    hijacked[0].close()
    if outcome == "detached":
        wait[0].close()
        return 0
    return attachment.wait_status(wait)

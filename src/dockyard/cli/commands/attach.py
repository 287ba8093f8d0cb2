"""`dockyard attach [--no-stdin] [--sig-proxy] [--detach-keys KEYS] CONTAINER`."""

from __future__ import annotations

from dockyard.cli import attachment
from dockyard.cli.client import path_id
from dockyard.cli.flags import Parser, UsageError, boolean


def main(ctx, argv: list[str]) -> int:
    parser = Parser(
        ctx.prog, "[OPTIONS] CONTAINER", "Attach local standard input, output, and error streams to a running container"
    )
    parser.add_argument("--no-stdin", action="store_true")
    boolean(parser, "--sig-proxy", default=True)
    parser.add_argument("--detach-keys")
    parser.add_argument("container")
    ns = parser.parse(argv)
    client = ctx.client
    info = client.get(f"/containers/{path_id(ns.container)}/json")
    state = info.get("State") or {}
    if not state.get("Running"):
        raise UsageError("You cannot attach to a stopped container, start it first")
    if state.get("Paused"):
        raise UsageError("You cannot attach to a paused container, unpause it first")
    config, container_id = info.get("Config") or {}, info["Id"]
    tty = bool(config.get("Tty"))
    stdin = not ns.no_stdin and bool(config.get("OpenStdin"))
    hijacked = attachment.open_attach(client, container_id, stdin, True, True, ns.detach_keys)
    if tty:
        attachment.resize_with_terminal(client, container_id)
    elif ns.sig_proxy:
        attachment.proxy_signals(client, container_id)
    outcome = attachment.stream(*hijacked, tty, stdin, ns.detach_keys)
    hijacked[0].close()
    if outcome == "detached":
        return 0
    # as the docker CLI does: wait (not inspect), since the exit may not be recorded yet at EOF
    return attachment.wait_status(attachment.open_wait(client, container_id, "not-running"))

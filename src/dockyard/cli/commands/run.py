"""`dockyard run [OPTIONS] IMAGE [COMMAND] [ARG...]`: create, attach, wait, start, stream, exit with the code."""

from __future__ import annotations

import sys

from dockyard.cli.client import path_id
from dockyard.cli.commands.create import build_request, create_container, write_cidfile
from dockyard.cli.runopts import container_parser
from dockyard.errors import DockyardError


def start_exit_code(message: str) -> int:
    """Docker's mapping of a failed start: 127 not found, 126 not executable, else 125."""
    if "executable file not found" in message or "no such file or directory" in message:
        return 127
    if "permission denied" in message or "is a directory" in message:
        return 126
    return 125


def main(ctx, argv: list[str]) -> int:
    ns = container_parser(ctx.prog, run=True).parse(argv)
    if ns.detach:
        container_id, _ = _create(ctx, ns)
        _start(ctx.client, container_id)
        sys.stdout.write(container_id + "\n")
        return 0
    return _run_attached(ctx, ns)


def _run_attached(ctx, ns) -> int:
    """Create, attach, wait, start, stream; the container's exit code."""
    from dockyard.cli import attachment  # only a run that streams pays its imports (~3 ms)

    attachment.require_tty_input(ns.tty, ns.interactive)
    container_id, body = _create(ctx, ns)
    client = ctx.client
    if ns.sig_proxy and not ns.tty:
        attachment.proxy_signals(client, container_id)
    attached = body["AttachStdin"] or body["AttachStdout"] or body["AttachStderr"]
    hijacked = (
        attachment.open_attach(
            client, container_id, body["AttachStdin"], body["AttachStdout"], body["AttachStderr"], ns.detach_keys
        )
        if attached
        else None
    )
    wait = attachment.open_wait(client, container_id, "removed" if ns.rm else "next-exit")
    try:
        _start(client, container_id)
    except DockyardError as exc:
        sys.stderr.write(f"dockyard: Error response from daemon: {exc}\n")
        wait[0].close()
        return start_exit_code(str(exc))
    return _follow(ctx, ns, container_id, hijacked, wait, body)


def _create(ctx, ns) -> tuple[str, dict]:
    """The new container's ID and the create request's body."""
    query, body = build_request(ns, detached=ns.detach)
    container_id = create_container(ctx, query, body, ns.pull, ns.platform, ns.quiet)
    write_cidfile(ns.cidfile, container_id)
    return container_id, body


def _start(client, container_id: str) -> None:
    client.call("POST", f"/containers/{path_id(container_id)}/start")


def _follow(ctx, ns, container_id: str, hijacked, wait, body: dict) -> int:
    """Stream until the container's output ends, then return its exit code."""
    from dockyard.cli import attachment  # loaded by _run_attached

    client = ctx.client
    if ns.tty and sys.stdout.isatty():
        attachment.resize_with_terminal(client, container_id)
    if hijacked is not None:
        outcome = attachment.stream(*hijacked, ns.tty, body["AttachStdin"], ns.detach_keys)
        hijacked[0].close()
        if outcome == "detached":
            wait[0].close()
            sys.stderr.write("\r\n")
            return 0
    return attachment.wait_status(wait)

"""`dockyard exec [-i] [-t] [-d] [-e K=V] [-w DIR] [-u USER] [--privileged] CONTAINER COMMAND [ARG...]`."""

from __future__ import annotations

import os
import sys

from dockyard.cli import attachment
from dockyard.cli.client import path_id
from dockyard.cli.envflags import parse_env, read_env_files
from dockyard.cli.flags import REMAINDER, Namespace, Parser, UsageError, multi
from dockyard.cli.terminal import is_tty, size


def exec_parser(prog: str) -> Parser:
    parser = Parser(prog, "[OPTIONS] CONTAINER COMMAND [ARG...]", "Execute a command in a running container")
    parser.add_argument("-i", "--interactive", action="store_true")
    parser.add_argument("-t", "--tty", action="store_true")
    parser.add_argument("-d", "--detach", action="store_true")
    multi(parser, "-e", "--env", dest="env")
    multi(parser, "--env-file", dest="env_file")
    parser.add_argument("-w", "--workdir")
    parser.add_argument("-u", "--user")
    parser.add_argument("--privileged", action="store_true")
    parser.add_argument("--detach-keys")
    parser.add_argument("container")
    parser.add_argument("command", nargs=REMAINDER)
    return parser


def exec_config(
    ns: Namespace, environ: dict[str, str], env_files: list[str], console: tuple[int, int] | None = None
) -> dict:
    """The POST /containers/{id}/exec body docker sends for these flags."""
    body = {
        "User": ns.user or "",
        "Privileged": ns.privileged,
        "Tty": ns.tty,
        "AttachStdin": ns.interactive and not ns.detach,
        "AttachStdout": not ns.detach,
        "AttachStderr": not ns.detach,
        "Detach": ns.detach,
        "Cmd": ns.command,
        "Env": parse_env(ns.env, environ, env_files) or None,
        "WorkingDir": ns.workdir or "",
    }
    detach_keys = ns.detach_keys or (attachment.configured_detach_keys() if body["AttachStdin"] else None)
    if detach_keys:
        body["DetachKeys"] = detach_keys
    if console:
        body["ConsoleSize"] = list(console)
    return body


def main(ctx, argv: list[str]) -> int:
    ns = exec_parser(ctx.prog).parse(argv)
    if not ns.command:
        raise UsageError(f'"{ctx.prog}" requires at least 2 arguments.')
    if not ns.detach:
        attachment.require_tty_input(ns.tty, ns.interactive)
    console = size(sys.stdout.fileno()) if ns.tty and is_tty(sys.stdout) else None
    body = exec_config(ns, dict(os.environ), read_env_files(ns.env_file), console)
    client = ctx.client
    exec_id = client.post(f"/containers/{path_id(ns.container)}/exec", None, body)["Id"]
    start = {"Detach": ns.detach, "Tty": ns.tty, **({"ConsoleSize": list(console)} if console else {})}
    if ns.detach:
        client.call("POST", f"/exec/{exec_id}/start", None, start)
        return 0
    sock, reader, _ = client.open("POST", f"/exec/{exec_id}/start", None, start, upgrade=True)
    if ns.tty and console:
        attachment.resize_with_terminal(client, exec_id, path="exec")
    outcome = attachment.stream(sock, reader, ns.tty, body["AttachStdin"], body.get("DetachKeys"))
    sock.close()
    if outcome == "detached":
        return 0
    return int(client.get(f"/exec/{exec_id}/json").get("ExitCode") or 0)

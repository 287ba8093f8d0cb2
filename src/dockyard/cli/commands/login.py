"""`dockyard login [-u USER] [-p PASS | --password-stdin] [SERVER]` and `dockyard logout [SERVER]`."""

from __future__ import annotations

import sys

from dockyard.cli.flags import Parser, UsageError
from dockyard.distribution.credentials import Credentials, DockerConfigFile, registry_host, server_key


def main(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "[OPTIONS] [SERVER]", "Authenticate to a registry")
    parser.add_argument("-u", "--username")
    parser.add_argument("-p", "--password")
    parser.add_argument("--password-stdin", action="store_true")
    parser.add_argument("server", nargs="?")
    ns = parser.parse(argv)
    registry = registry_host(ns.server)
    server = server_key(registry)
    password = ns.password
    if ns.password_stdin:
        if password:
            raise UsageError("--password and --password-stdin are mutually exclusive")
        if not ns.username:
            raise UsageError("Must provide --username with --password-stdin")
        password = sys.stdin.read().rstrip("\r\n")
    elif password:
        sys.stderr.write("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n")
    username = ns.username or _prompt("Username: ")
    if not password:
        import getpass

        password = getpass.getpass("Password: ")
    if not username or not password:
        raise UsageError("Error: Non-null Username Required" if not username else "Error: Password Required")
    result = ctx.client.post("/auth", None, {"username": username, "password": password, "serveraddress": server}) or {}
    DockerConfigFile().store(registry, Credentials(username, password))
    sys.stdout.write(f"{result.get('Status') or 'Login Succeeded'}\n")
    return 0


def _prompt(text: str) -> str:
    sys.stdout.write(text)
    sys.stdout.flush()
    return sys.stdin.readline().strip()


def logout(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "[SERVER]", "Log out from a registry")
    parser.add_argument("server", nargs="?")
    ns = parser.parse(argv)
    registry = registry_host(ns.server)
    server = server_key(registry)
    if not DockerConfigFile().erase(registry):
        sys.stdout.write(f"Not logged in to {server}\n")
        return 0
    sys.stdout.write(f"Removing login credentials for {server}\n")
    return 0

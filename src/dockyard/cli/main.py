"""`dockyard`: global flags, the verb table, and error-to-exit-code handling.

Verb modules are imported only when their verb runs, to keep start-up small
(json and socket are the heaviest imports on the common path). `dockyard daemon`
and `dockyard registry` are other programs behind the same command (dockyard/__main__.py):
the CLI only names them in its help, and never imports the daemon, engine or registry.
"""

from __future__ import annotations

import os
import sys

# verb -> "module[:function]" under dockyard.cli.commands
VERBS = {
    "run": "run",
    "create": "create",
    "start": "start",
    "attach": "attach",
    "ps": "ps",
    "stop": "stop",
    "kill": "kill",
    "restart": "restart",
    "wait": "wait",
    "rm": "rm",
    "logs": "logs",
    "inspect": "inspect",
    "rename": "rename",
    "update": "update",
    "exec": "exec",
    "pause": "pause",
    "unpause": "pause:unpause",
    "top": "top",
    "port": "port",
    "images": "images",
    "tag": "tag",
    "rmi": "rmi",
    "history": "history",
    "import": "import_",
    "load": "load",
    "save": "save",
    "pull": "pull",
    "push": "push",
    "login": "login",
    "logout": "login:logout",
    "version": "version",
    "info": "info",
    "events": "events",
    "export": "export",
    "diff": "diff",
    "commit": "commit",
    "stats": "stats",
    "cp": "cp",
    "build": "build",
}
MANAGEMENT = {
    "container": {
        "ls": "ps",
        "list": "ps",
        "ps": "ps",
        "rm": "rm",
        "remove": "rm",
        "prune": "prune:container",
        "inspect": "inspect:container",
        **{
            v: VERBS[v]
            for v in (
                "run",
                "create",
                "start",
                "attach",
                "stop",
                "kill",
                "restart",
                "wait",
                "logs",
                "rename",
                "update",
                "exec",
                "pause",
                "unpause",
                "top",
                "port",
                "export",
                "diff",
                "commit",
                "stats",
                "cp",
            )
        },
    },
    "image": {
        "ls": "images",
        "list": "images",
        "rm": "rmi",
        "remove": "rmi",
        "prune": "prune:image",
        "inspect": "inspect:image",
        **{v: VERBS[v] for v in ("tag", "history", "import", "load", "save", "pull", "push", "build")},
    },
    "system": {"df": "df", "info": "info", "events": "events", "prune": "prune:system"},
    "network": {
        "create": "network:create",
        "ls": "network:ls",
        "list": "network:ls",
        "inspect": "network:inspect_",
        "rm": "network:rm",
        "remove": "network:rm",
        "prune": "network:prune_",
        "connect": "network:connect",
        "disconnect": "network:disconnect",
    },
    "volume": {
        "create": "volume:create",
        "ls": "volume:ls",
        "list": "volume:ls",
        "inspect": "volume:inspect_",
        "rm": "volume:rm",
        "remove": "volume:rm",
        "prune": "volume:prune_",
    },
}
USAGE = """Usage:  dockyard [OPTIONS] COMMAND

A container engine that speaks the Docker Engine API

Options:
  -H, --host string    Daemon socket to connect to (unix:///path)
  -D, --debug          Enable debug mode
  -v, --version        Print version information and quit

Management Commands:
  container, image, network, volume, system, registry

Commands:
  {verbs}
"""


class Context:
    """What every verb gets: the daemon address, a lazily opened client, and the verb's name."""

    def __init__(self, host: str | None, debug: bool = False) -> None:
        self.host_flag = host
        self.debug = debug
        self.prog = "dockyard"
        self._client = None

    @property
    def host(self) -> str:
        from dockyard.cli.client import resolve_host

        return resolve_host(self.host_flag)

    @property
    def client(self):
        if self._client is None:
            from dockyard.cli.client import Client

            self._client = Client(self.host)
        return self._client


def split_globals(argv: list[str]) -> tuple[dict, list[str]]:
    """Consume docker's global flags up to the verb."""
    opts: dict = {"host": None, "debug": False, "version": False, "help": False}
    index = 0
    while index < len(argv) and argv[index].startswith("-"):
        arg = argv[index]
        if arg in ("-H", "--host", "--config", "-c", "--context", "-l", "--log-level"):
            if index + 1 >= len(argv):
                raise SystemExit(_usage_exit(f"flag needs an argument: {arg}"))
            if arg in ("-H", "--host"):
                opts["host"] = argv[index + 1]
            index += 2
            continue
        if arg.startswith("--host="):
            opts["host"] = arg.split("=", 1)[1]
        elif arg in ("-D", "--debug"):
            opts["debug"] = True
        elif arg in ("-v", "--version"):
            opts["version"] = True
        elif arg in ("-h", "--help"):
            opts["help"] = True
        else:
            raise SystemExit(_usage_exit(f"unknown flag: {arg}"))
        index += 1
    return opts, argv[index:]


def _usage_exit(message: str) -> int:
    sys.stderr.write(f"{message}\nSee 'dockyard --help'.\n")
    return 125


def lookup(args: list[str]) -> tuple[str, str, list[str]] | None:
    """Find (prog, 'module:function', rest) for a verb or management command."""
    verb = args[0]
    group = MANAGEMENT.get(verb)
    if group is not None and len(args) > 1 and args[1] in group:
        return f"dockyard {verb} {args[1]}", group[args[1]], args[2:]
    if verb in VERBS:
        return f"dockyard {verb}", VERBS[verb], args[1:]
    return None


def dispatch(ctx: Context, target: str, argv: list[str]) -> int:
    """Import the verb's module and run it (with __import__: importlib costs ~0.5 ms to import)."""
    module_name, _, function = target.partition(":")
    name = f"dockyard.cli.commands.{module_name}"
    __import__(name)
    module = sys.modules[name]
    return getattr(module, function or "main")(ctx, argv)


def run(argv: list[str]) -> int:
    """Run one dockyard command line; returns the exit code."""
    opts, args = split_globals(argv)
    if opts["version"]:
        from dockyard import __version__

        sys.stdout.write(f"dockyard version {__version__}\n")
        return 0
    if not args or opts["help"]:
        sys.stdout.write(USAGE.format(verbs=", ".join(sorted([*VERBS, "daemon"]))))
        return 0
    if args[0] in MANAGEMENT and (len(args) == 1 or args[1] in ("--help", "-h")):
        commands = "\n".join(f"  {name}" for name in MANAGEMENT[args[0]])
        sys.stdout.write(f"Usage:  dockyard {args[0]} COMMAND\n\nCommands:\n{commands}\n")
        return 0
    found = lookup(args)
    if found is None:
        sys.stderr.write(
            f"dockyard: unknown command: dockyard {' '.join(args[:2])}\n\nRun 'dockyard --help' for more information\n"
        )
        return 1
    ctx = Context(opts["host"], opts["debug"])
    ctx.prog, target, rest = found
    return guarded(ctx, target, rest)


def guarded(ctx: Context, target: str, rest: list[str]) -> int:
    """Run a verb and turn errors into docker's messages and exit codes."""
    from dockyard.errors import DockyardError

    try:
        return dispatch(ctx, target, rest)
    except DockyardError as exc:
        return report(exc, ctx.prog)
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            return quiet_broken_pipe()
        reason = (exc.strerror or str(exc)).lower()
        sys.stderr.write(f"open {exc.filename}: {reason}\n" if exc.filename else f"{reason}\n")
        return 125 if ctx.prog.endswith((" run", " create")) else 1
    except KeyboardInterrupt:
        return 130


def quiet_broken_pipe() -> int:
    """The reader went away (`dockyard ps | head`): exit quietly like a Go program killed by SIGPIPE."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 141


def report(exc: Exception, prog: str) -> int:
    """Print an error as docker does and choose its exit code."""
    from dockyard.cli.client import DaemonUnreachable
    from dockyard.cli.flags import UsageError

    run_like = prog.endswith(" run")  # docker create reports daemon errors with exit 1
    if isinstance(exc, DaemonUnreachable):
        sys.stderr.write(f"{exc}\n")
        return 1
    if hasattr(exc, "status") and run_like:
        sys.stderr.write(f"dockyard: Error response from daemon: {exc}\n\nRun '{prog} --help' for more information\n")
        return 125
    if hasattr(exc, "status"):
        sys.stderr.write(f"Error response from daemon: {exc}\n")
        return 1
    sys.stderr.write(f"{exc}\n")
    if isinstance(exc, UsageError):
        return exc.exit_code
    return 125 if run_like else 1


def main() -> None:
    """Console-script entry point."""
    code = run(sys.argv[1:])
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = quiet_broken_pipe()
    raise SystemExit(code)


if __name__ == "__main__":
    main()

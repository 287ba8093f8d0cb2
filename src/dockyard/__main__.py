"""The `dockyard` command: one console script in front of three programs.

    dockyard [-H HOST] [-D] daemon ...   the daemon (dockyard.daemon)
    dockyard registry serve|gc ...       the registry server (dockyard.registry.cli)
    dockyard [global flags] VERB ...     the CLI, a pure API client (dockyard.cli.main)

Only the program asked for is imported: the CLI never loads the daemon, the engine or the
registry. `python -m dockyard` is the same command.
"""

from __future__ import annotations

import sys

from dockyard.cli.main import main as cli_main
from dockyard.cli.main import split_globals


def main() -> None:
    """Console-script entry point."""
    opts, args = split_globals(sys.argv[1:])
    if args[:1] == ["daemon"]:
        from dockyard.daemon import main as daemon_main

        raise SystemExit(daemon_main(args[1:], opts["host"], opts["debug"]))
    if args[:1] == ["registry"]:
        from dockyard.registry.cli import main as registry_main

        raise SystemExit(registry_main(args[1:]))
    cli_main()


if __name__ == "__main__":
    main()

"""`dockyard registry serve --addr HOST:PORT --storage DIR [--config FILE]` and `registry gc`.

The registry package owns its flags (dockyard.registry.cli); this verb only hands over argv.
"""

from __future__ import annotations


def main(ctx, argv: list[str]) -> int:
    from dockyard.registry.cli import main as registry_main

    return registry_main(argv)

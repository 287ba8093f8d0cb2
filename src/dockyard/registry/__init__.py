"""An OCI distribution registry server, runnable on its own: `dockyard registry serve`.

Entry points for the CLI: `serve(addr, storage, config)`, `gc(storage, dry_run)`, `main(argv)`.
"""

from dockyard.registry.cli import main
from dockyard.registry.config import Config, load_config
from dockyard.registry.gc import GCReport, gc
from dockyard.registry.server import serve

__all__ = ["Config", "GCReport", "gc", "load_config", "main", "serve"]

"""`python -m dockyard.registry serve|gc ...`, the same as `dockyard registry ...`."""

import sys

from dockyard.registry.cli import main

sys.exit(main())

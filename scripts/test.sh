#!/usr/bin/env bash
# Install everything, then run the whole test suite (as root: the tests use namespaces,
# mounts, iptables and a real registry, and start their own daemons on temporary roots).
set -euo pipefail
cd "$(dirname "$0")/.."
DOCKYARD_WITH_DOCKER=1 ./scripts/setup.sh   # the reference dockerd for the interop tests
export PATH="/opt/dockyard/venv/bin:$PATH"  # python3 below: the environment setup.sh made
python3 -m ruff check -q src tests bench
python3 -m ruff format --check -q src tests bench
python3 -m mypy   # the pure packages; which ones: [tool.mypy] files in pyproject.toml
exec python3 -m pytest -q -p no:cacheprovider "$@"

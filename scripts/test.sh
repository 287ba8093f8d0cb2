#!/usr/bin/env bash
# Install everything, then run the whole test suite (as root: the tests use namespaces,
# mounts, iptables and a real registry, and start their own daemons on temporary roots).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec python3 -m pytest -q -p no:cacheprovider "$@"

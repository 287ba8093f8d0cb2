#!/usr/bin/env bash
# The engine's main job on its embedded defaults: install, start the daemon, make a first
# image locally (no registry), and run a container from it with both CLIs.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

SOCK=/run/dockyard/dockyard.sock
if ! dockyard version >/dev/null 2>&1; then
    mkdir -p /var/log
    nohup dockyard daemon >/var/log/dockyard.log 2>&1 &
    for _ in $(seq 50); do [ -S "$SOCK" ] && dockyard version >/dev/null 2>&1 && break; sleep 0.1; done
    echo "dockyard daemon started (pid $!, log /var/log/dockyard.log, socket $SOCK)"
fi

./scripts/busybox-rootfs.sh | dockyard import - busybox:latest
dockyard images
dockyard run --rm busybox echo hello from dockyard
if command -v docker >/dev/null; then
    DOCKER_HOST="unix://$SOCK" docker run --rm busybox echo hello from the docker CLI
fi
echo "The daemon keeps running: try 'dockyard run -it busybox sh' or 'dockyard ps -a'."

#!/usr/bin/env bash
# Install everything dockyard needs on a fresh Debian bookworm machine (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(openssl busybox-static debootstrap iptables iproute2 uidmap zstd skopeo docker-registry apache2-utils postgresql-client tmux procps gcc libc6-dev)
missing=()
for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# docker.io brings a reference dockerd for the side-by-side benchmarks; optional.
if [ "${DOCKYARD_WITH_DOCKER:-0}" = 1 ] && ! command -v dockerd >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi
# --init's reaper, a static C program of dockyard's own (docs/decisions/0091-init-reaper.md)
INIT=/usr/local/libexec/dockyard/dockyard-init
if [ ! -x "$INIT" ] || [ src/dockyard/runtime/reaper/dockyard-init.c -nt "$INIT" ]; then
    install -d "$(dirname "$INIT")"
    gcc -static -Os -o "$INIT.tmp" src/dockyard/runtime/reaper/dockyard-init.c && mv "$INIT.tmp" "$INIT"
fi
python3 -m pip install -q --disable-pip-version-check -e ".[test]"
# An editable install leaves no bytecode, and PYTHONDONTWRITEBYTECODE (set in some shells)
# stops the CLI from caching any: compile once so `dockyard` starts without recompiling
# its modules every run (docs/decisions/0081-startup.md). Stale files are simply recompiled.
python3 -m compileall -q src

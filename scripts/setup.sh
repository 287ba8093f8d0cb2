#!/usr/bin/env bash
# Install everything dockyard needs on a fresh Debian bookworm machine (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(mount openssl busybox-static debootstrap iptables iproute2 uidmap zstd skopeo docker-registry apache2-utils postgresql-client tmux procps gcc libc6-dev crun python3-venv strace)
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
# dockyard and its test tools live in a virtual environment of their own, as pipx installs a
# tool, with `dockyard` linked onto PATH: the command users type starts that interpreter
# directly, without a version manager's shim or the system site's .pth files, and nothing is
# installed into the system interpreter (docs/decisions/0082-cli-install.md).
VENV=/opt/dockyard/venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".[test]"
# setuptools builds the package in pip's isolated build environment, so the venv's own copy
# only adds its distutils-precedence.pth to every start of the interpreter (~1 ms of each
# `dockyard` command; decision 0082): remove it.
if "$VENV/bin/python" -m pip show setuptools >/dev/null 2>&1; then
    "$VENV/bin/python" -m pip uninstall -q -y setuptools
fi
# `dockyard` on PATH is a small C launcher that hands each command to a warm CLI server and
# falls back to the environment's entry point (docs/decisions/0085-cli-command-server.md)
# (built each time, replaced only when it differs: the tests run this checkout's launcher)
LAUNCHER=/usr/local/libexec/dockyard/dockyard
install -d "$(dirname "$LAUNCHER")"
gcc -static -O2 -DPYTHON="\"$VENV/bin/python\"" -DENTRY_POINT="\"$VENV/bin/dockyard\"" \
    -o "$LAUNCHER.tmp" src/dockyard/cli/launcher/dockyard.c
if cmp -s "$LAUNCHER.tmp" "$LAUNCHER"; then rm "$LAUNCHER.tmp"; else mv "$LAUNCHER.tmp" "$LAUNCHER"; fi
ln -sfn "$LAUNCHER" /usr/local/bin/dockyard
# An install of an earlier set-up into the interpreter on PATH would shadow the link (pyenv's
# shims come first on PATH): remove it and its shim; unless that interpreter is the
# environment's own (set-up run with the environment on PATH, as scripts/test.sh puts it).
if [ "$(python3 -c 'import sys; print(sys.prefix)')" != "$VENV" ] && python3 -m pip show dockyard >/dev/null 2>&1; then
    python3 -m pip uninstall -q -y dockyard
    if command -v pyenv >/dev/null; then pyenv rehash; fi
fi
hash -r
if [ "$(command -v dockyard)" != /usr/local/bin/dockyard ]; then
    echo "warning: 'dockyard' resolves to $(command -v dockyard), not /usr/local/bin/dockyard" >&2
fi
# An editable install leaves no bytecode, and PYTHONDONTWRITEBYTECODE (set in some shells)
# stops the CLI from caching any: compile once so `dockyard` starts without recompiling
# its modules every run (docs/decisions/0081-startup.md). Stale files are simply recompiled.
"$VENV/bin/python" -m compileall -q src

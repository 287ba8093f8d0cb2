#!/usr/bin/env bash
# Prepare the lesson (README "The lesson"): real images and a local Docker Hub mirror.
#
#   1. debian:bookworm  a minbase debootstrap from the mirror the host's apt uses, cached
#                       under $LESSON_CACHE keyed by suite and date, then `dockyard import`ed
#   2. postgres, python built by dockyard from lesson/<name>/Dockerfile; busybox imported
#   3. a registry on loopback ($LESSON_REGISTRY) holding library/{debian,postgres,python,busybox}
#   4. $LESSON_DAEMON_JSON gets "registry-mirrors": ["http://$LESSON_REGISTRY"] (restart the
#      daemon afterwards) so `dockyard pull postgres:latest` pulls from it.
#
# Talks to the daemon at $DOCKYARD_HOST (default: /run/dockyard/dockyard.sock). Idempotent: a running
# registry (pid in $LESSON_STATE/registry.pid) is reused. Needs root and debootstrap.
set -euo pipefail
cd "$(dirname "$0")/.."

SUITE=bookworm
CACHE=${LESSON_CACHE:-/var/cache/dockyard-lesson}
STATE=${LESSON_STATE:-/var/lib/dockyard-lesson}
REGISTRY=${LESSON_REGISTRY:-127.0.0.1:5055}
DAEMON_JSON=${LESSON_DAEMON_JSON:-/etc/dockyard/daemon.json}
DOCKYARD=${DOCKYARD:-dockyard}
mkdir -p "$CACHE" "$STATE"
say() { printf '== %s\n' "$*" >&2; }

# The first Debian mirror of the host's apt sources (deb822 or one-line format).
debian_mirror() {
    local uri
    uri=$(grep -hsE '^URIs:.*/debian/?$' /etc/apt/sources.list.d/*.sources | head -1 | awk '{print $2}')
    [ -n "$uri" ] || uri=$(grep -hsE '^deb +[^ ]+/debian/? ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | head -1 | awk '{print $2}')
    echo "${uri:-http://deb.debian.org/debian}"
}

# A tarball of a minbase $SUITE root filesystem, made once per day.
base_tarball() {
    local tarball="$CACHE/debian-$SUITE-minbase-$(date -u +%Y%m%d).tar"
    if [ ! -s "$tarball" ]; then
        local mirror rootfs
        mirror=$(debian_mirror)
        rootfs=$(mktemp -d "$CACHE/rootfs.XXXXXX")
        say "debootstrap --variant=minbase $SUITE from $mirror"
        debootstrap --variant=minbase "$SUITE" "$rootfs" "$mirror" >"$CACHE/debootstrap.log" 2>&1 \
            || { tail -20 "$CACHE/debootstrap.log" >&2; rm -rf "$rootfs"; exit 1; }
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
        tar --numeric-owner -C "$rootfs" -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
        rm -rf "$rootfs"
    fi
    echo "$tarball"
}

if [ "${1:-}" = base ]; then base_tarball; exit 0; fi  # only the cached base tarball

# A registry on loopback, started once (storage under $STATE).
start_registry() {
    if [ -s "$STATE/registry.pid" ] && kill -0 "$(cat "$STATE/registry.pid")" 2>/dev/null; then return; fi
    say "registry on $REGISTRY"
    nohup "$DOCKYARD" registry serve --addr "$REGISTRY" --storage "$STATE/registry" \
        >"$STATE/registry.log" 2>&1 </dev/null &
    echo $! >"$STATE/registry.pid"
    for _ in $(seq 100); do
        python3 - "$REGISTRY" 2>/dev/null <<'PY' && return
import sys, urllib.request
urllib.request.urlopen(f"http://{sys.argv[1]}/v2/", timeout=1)
PY
        sleep 0.1
    done
    cat "$STATE/registry.log" >&2; exit 1
}

# Build lesson/$1 (with the host's extra CAs staged in ca/ for the python image) as $1:latest.
build() {
    local context
    context=$(mktemp -d)
    cp -r "lesson/$1/." "$context/"
    if [ "$1" = python ]; then
        mkdir -p "$context/ca"
        cp /usr/local/share/ca-certificates/*.crt "$context/ca/" 2>/dev/null || true
    fi
    # apt reaches the network: a build that failed on a passing outage (a name that did not
    # resolve once) is tried again
    for attempt in 1 2 3; do
        say "build $1:latest"
        "$DOCKYARD" build -t "$1:latest" "$context" >"$STATE/build-$1.log" 2>&1 && break
        tail -30 "$STATE/build-$1.log" >&2
        [ "$attempt" = 3 ] && { rm -rf "$context"; exit 1; }
        say "build failed; again in 5 s"; sleep 5
    done
    rm -rf "$context"
}

# Push name:tag $1 to the registry as library/name:tag (Docker Hub's layout).
publish() {
    say "push $REGISTRY/library/$1"
    "$DOCKYARD" tag "$1" "$REGISTRY/library/$1"
    # a push that found the registry busy once is tried again (see the README's known issues)
    for attempt in 1 2 3; do
        "$DOCKYARD" push "$REGISTRY/library/$1" >/dev/null && break
        [ "$attempt" = 3 ] && { tail -20 "$STATE/registry.log" >&2; exit 1; }
        say "push failed; again in 2 s"; sleep 2
    done
    "$DOCKYARD" rmi "$REGISTRY/library/$1" >/dev/null
}

# Add the registry as the Docker Hub mirror in daemon.json, keeping its other keys.
configure_mirror() {
    mkdir -p "$(dirname "$DAEMON_JSON")"
    python3 - "$DAEMON_JSON" "http://$REGISTRY" <<'PY'
import json, pathlib, sys
path, mirror = pathlib.Path(sys.argv[1]), sys.argv[2]
config = json.loads(path.read_text()) if path.exists() and path.read_text().strip() else {}
config["registry-mirrors"] = [mirror] + [m for m in config.get("registry-mirrors", []) if m != mirror]
path.write_text(json.dumps(config, indent=2) + "\n")
PY
    say "$DAEMON_JSON: registry-mirrors = [http://$REGISTRY] (restart the daemon to apply)"
}

tarball=$(base_tarball)
start_registry
say "import debian:$SUITE"
# as Docker Hub's debian image: PATH set, bash as the command
"$DOCKYARD" import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'CMD ["bash"]' "$tarball" "debian:$SUITE" >/dev/null
scripts/busybox-rootfs.sh | "$DOCKYARD" import - busybox:latest >/dev/null
build postgres
build python
for image in "debian:$SUITE" busybox:latest postgres:latest python:latest; do
    publish "$image"
done
configure_mirror
say "ready: dockyard pull postgres:latest"

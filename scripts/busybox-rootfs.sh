#!/usr/bin/env bash
# Write a tiny busybox root filesystem tarball to $1 (or stdout): Debian's busybox-static,
# one symlink per applet, and /etc/passwd and /etc/group. No registry needed.
set -euo pipefail
out="${1:--}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,etc,root,tmp,home/app,proc,sys,dev}
cp /bin/busybox "$work/bin/busybox"
for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -s busybox "$work/bin/$applet"
done
mkdir -p "$work/usr" && ln -s ../bin "$work/usr/bin" && ln -s bin "$work/sbin"
cat > "$work/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > "$work/etc/group" <<'GROUP'
root:x:0:
app:x:1000:
staff:x:50:app
nogroup:x:65534:
GROUP
chmod 1777 "$work/tmp"
chown 1000:1000 "$work/home/app"
tar --numeric-owner --sort=name --mtime=@0 -C "$work" -cf "$out" .

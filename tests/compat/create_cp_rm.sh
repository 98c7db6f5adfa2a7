#!/bin/bash
# Extracting build artifacts from an image without running it.
set -eu
docker pull -q "$IMG" >/dev/null
cid=$(docker create "$IMG")
[[ "$cid" =~ ^[0-9a-f]{64}$ ]] || { echo "create printed: $cid" >&2; exit 1; }
docker cp "$cid":/etc/passwd ./passwd
grep -q '^root:' passwd
docker cp "$cid":/etc ./out
test -f out/passwd
test -f out/group
docker cp "$cid":/bin/busybox - | tar -t | grep -qx busybox
docker rm "$cid" >/dev/null
if docker ps -aq --no-trunc | grep -q "$cid"; then echo "$cid still exists" >&2; exit 1; fi
# Files copied out belong to the caller.
[ "$(stat -c %u passwd)" = "$(id -u)" ]

# The other direction: configure a created container, then start it.
cid=$(docker create "$IMG" cat /etc/app.conf)
trap 'docker rm -f "$cid" >/dev/null' EXIT
echo "listen=8080" > app.conf
docker cp app.conf "$cid":/etc/app.conf
[ "$(docker start -a "$cid")" = "listen=8080" ]

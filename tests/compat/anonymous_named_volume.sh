#!/bin/bash
# A generated volume name captured and passed around.
set -eu
vol=$(docker volume create)
[[ "$vol" =~ ^[0-9a-f]{64}$ ]] || { echo "volume create printed: $vol" >&2; exit 1; }
docker volume ls -q | grep -qx "$vol"
docker run --rm -v "$vol":/data "$IMG" sh -c 'echo persisted > /data/file'
[ "$(docker run --rm -v "$vol":/data:ro "$IMG" cat /data/file)" = persisted ]
[ "$(docker volume inspect -f '{{.Name}}' "$vol")" = "$vol" ]
docker volume rm "$vol" | grep -qx "$vol"
if docker volume ls -q | grep -q "$vol"; then echo "volume still listed" >&2; exit 1; fi

# A named one, in use: rm refuses while a container uses it.
docker volume create cache >/dev/null
docker run -d --name user -v cache:/data "$IMG" sleep 300 >/dev/null
trap 'docker rm -f user >/dev/null 2>&1; docker volume rm cache >/dev/null 2>&1 || true' EXIT
if docker volume rm cache 2>/dev/null; then echo "removed a volume in use" >&2; exit 1; fi
docker rm -f user >/dev/null
docker volume rm cache >/dev/null

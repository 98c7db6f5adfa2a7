#!/bin/bash
# Moving images between machines: save | tar -x to inspect, tar -c | load.
set -eu
docker pull -q "$IMG" >/dev/null
id=$(docker inspect -f '{{.Id}}' "$IMG")
mkdir saved
docker save "$IMG" | tar -x -C saved
test -f saved/manifest.json
test -f saved/repositories || test -f saved/index.json
grep -q "$IMG" saved/manifest.json || { echo "manifest.json lacks the tag" >&2; cat saved/manifest.json >&2; exit 1; }

docker rmi "$IMG" >/dev/null
if docker image inspect "$IMG" >/dev/null 2>&1; then echo "still there after rmi" >&2; exit 1; fi
out=$(tar -c -C saved . | docker load)
[ "$out" = "Loaded image: $IMG" ] || { echo "load printed: $out" >&2; exit 1; }
[ "$(docker inspect -f '{{.Id}}' "$IMG")" = "$id" ]
docker run --rm "$IMG" true

# save -o / load -i, and a gzipped archive.
docker save -o img.tar "$IMG"
gzip -k img.tar
docker rmi "$IMG" >/dev/null
docker load -i img.tar.gz | grep -qx "Loaded image: $IMG"
docker rmi "$IMG" >/dev/null
docker load < img.tar | grep -qx "Loaded image: $IMG"
[ "$(docker inspect -f '{{.Id}}' "$IMG")" = "$id" ]

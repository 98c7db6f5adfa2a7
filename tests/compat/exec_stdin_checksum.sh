#!/bin/bash
# Feeding a file into a running container (database dumps, configs) and
# checking it arrived intact.
set -eu
docker run -d --name box "$IMG" sleep 300 >/dev/null
trap 'docker rm -f box >/dev/null' EXIT
head -c 5000000 /dev/urandom > bigfile
docker exec -i box sh -c 'cat > /f' < bigfile
want=$(md5sum < bigfile | cut -d' ' -f1)
got=$(docker exec box md5sum /f | awk '{print $1}')
[ "$want" = "$got" ] || { echo "checksum mismatch: host $want, container $got" >&2; exit 1; }
[ "$(docker exec box stat -c %s /f)" = 5000000 ]
# And back out through exec's stdout.
docker exec box cat /f > back
cmp bigfile back

#!/bin/bash
# The -v / --mount / --tmpfs forms found in compose-less scripts.
set -eu
mkdir -p data conf
echo setting=1 > conf/app.conf
# Read-only bind: reads work, writes fail.
[ "$(docker run --rm -v "$PWD/conf":/etc/app:ro "$IMG" cat /etc/app/app.conf)" = setting=1 ]
if docker run --rm -v "$PWD/conf":/etc/app:ro "$IMG" sh -c 'echo x > /etc/app/new' 2>/dev/null; then
  echo "wrote through a :ro bind" >&2; exit 1
fi
[ ! -e conf/new ]
# --mount bind, and SELinux's z accepted.
docker run --rm --mount type=bind,src="$PWD/data",dst=/data "$IMG" sh -c 'echo out > /data/result'
[ "$(cat data/result)" = out ]
[ "$(docker run --rm -v "$PWD/data":/data:z "$IMG" cat /data/result)" = out ]
# tmpfs.
docker run --rm --tmpfs /scratch:size=16m "$IMG" sh -c 'grep -q " /scratch tmpfs " /proc/mounts && echo t > /scratch/f'
# Anonymous volume: rm -v removes it, plain rm of a named one keeps it.
docker run --name anon -v /cache -v named:/keep "$IMG" sh -c 'echo a > /cache/f; echo k > /keep/f'
anon=$(docker inspect -f '{{range .Mounts}}{{if eq .Destination "/cache"}}{{.Name}}{{end}}{{end}}' anon)
[ -n "$anon" ]
docker volume ls -q | grep -qx "$anon"
docker rm -v anon >/dev/null
if docker volume ls -q | grep -qx "$anon"; then echo "rm -v left $anon" >&2; exit 1; fi
docker volume ls -q | grep -qx named
[ "$(docker run --rm -v named:/keep "$IMG" cat /keep/f)" = k ]
docker volume rm named >/dev/null

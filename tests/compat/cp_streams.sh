#!/bin/bash
# cp with tar streams and directory forms, export.
set -eu
docker run -d --name files "$IMG" sleep 300 >/dev/null
trap 'docker rm -f files >/dev/null' EXIT
mkdir -p assets/sub
echo one > assets/a.txt
echo two > assets/sub/b.txt
# A tar stream in (into an existing directory, as docker requires).
docker exec files mkdir -p /srv /opt
tar -c -C assets . | docker cp - files:/srv
[ "$(docker exec files cat /srv/sub/b.txt)" = two ]
# A directory's contents out into a directory that does not exist yet.
docker cp files:/srv/ ./copied/
[ "$(cat copied/a.txt)" = one ] && [ "$(cat copied/sub/b.txt)" = two ]
# A directory in, under its own name.
docker cp assets files:/opt
[ "$(docker exec files cat /opt/assets/a.txt)" = one ]
# A tar stream out.
docker cp files:/srv/sub - | tar -t | grep -qx 'sub/b.txt'
# export the whole filesystem.
docker export files | tar -t | grep -qx 'srv/a.txt'
docker export -o fs.tar files
tar -tf fs.tar | grep -qx 'bin/busybox'

#!/bin/bash
# "Is the image there?" checks.
set -eu
[ "$(docker images -q "$IMG" | wc -l)" -eq 0 ]
if docker image inspect "$IMG" >/dev/null 2>&1; then echo "present before pull" >&2; exit 1; fi
docker pull -q "$IMG" >/dev/null
[ "$(docker images -q "$IMG" | wc -l)" -eq 1 ]
docker image inspect "$IMG" >/dev/null 2>&1
id=$(docker images -q "$IMG")
[[ "$id" =~ ^[0-9a-f]{12}$ ]] || { echo "images -q printed: $id" >&2; exit 1; }
[ "$(docker inspect -f '{{.Id}}' "$IMG" | cut -c8-19)" = "$id" ]
# A second tag of the same image: one ID per tag line, same ID.
docker tag "$IMG" local/copy:1
[ "$(docker images -q local/copy:1)" = "$id" ]
[ "$(docker images -q "$IMG" | wc -l)" -eq 1 ]

#!/bin/bash
# Integration tests against a service container on a user-defined network,
# reached by its name.
set -eu
net=ci-net-$$
docker network create "$net" >/dev/null
trap 'docker rm -f db >/dev/null 2>&1 || true; docker network rm "$net" >/dev/null 2>&1 || true' EXIT
docker run -d --name db --network "$net" "$IMG" \
  sh -c 'while true; do echo pong | nc -l -p 5432; done' >/dev/null
got=
for i in $(seq 1 30); do
  got=$(docker run --rm --network "$net" "$IMG" sh -c 'nc db 5432 </dev/null' 2>/dev/null || true)
  [ "$got" = pong ] && break
  sleep 1
done
[ "$got" = pong ] || { echo "client read '$got' from db:5432" >&2; exit 1; }
docker network inspect -f '{{.Name}}' "$net" | grep -qx "$net"
[ -n "$(docker inspect -f "{{(index .NetworkSettings.Networks \"$net\").IPAddress}}" db)" ]
docker rm -f db >/dev/null
docker network rm "$net" | grep -qx "$net"

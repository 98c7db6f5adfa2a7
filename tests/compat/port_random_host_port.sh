#!/bin/bash
# A service published on a random loopback port, the port read back with
# `docker port` and used.
set -eu
docker run -d --name srv -p 127.0.0.1::80 "$IMG" \
  sh -c 'while true; do echo hello-from-container | nc -l -p 80; done' >/dev/null
trap 'docker rm -f srv >/dev/null' EXIT
addr=$(docker port srv 80)
[[ "$addr" =~ ^127\.0\.0\.1:[0-9]+$ ]] || { echo "docker port srv 80 printed: $addr" >&2; exit 1; }
port=${addr##*:}
[ "$port" -gt 0 ] && [ "$port" -lt 65536 ]
[ "$(docker port srv 80/tcp)" = "$addr" ]
docker port srv | grep -qx "80/tcp -> $addr"
[ "$(docker inspect -f '{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}' srv)" = "$port" ]
# Connect (retry until the listener is up).
got=
for i in $(seq 1 30); do
  got=$(timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"; cat <&3' _ "$port" 2>/dev/null || true)
  [ "$got" = hello-from-container ] && break
  sleep 1
done
[ "$got" = hello-from-container ] || { echo "read '$got' from 127.0.0.1:$port" >&2; exit 1; }

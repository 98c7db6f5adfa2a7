#!/bin/bash
# Waiting for a service the way CI scripts do: poll inspect in a loop.
set -eu
cid=$(docker run -d --name web \
  --health-cmd 'test -f /tmp/ready' --health-interval=1s --health-retries=30 \
  "$IMG" sh -c 'sleep 2; touch /tmp/ready; exec sleep 300')
trap 'docker rm -f web >/dev/null' EXIT

for i in $(seq 1 30); do
  if [ "$(docker inspect -f '{{.State.Running}}' web)" = "true" ]; then break; fi
  sleep 1
done
[ "$(docker inspect -f '{{.State.Running}}' "$cid")" = true ]

status=
for i in $(seq 1 60); do
  status=$(docker inspect -f '{{.State.Health.Status}}' web)
  case "$status" in
    healthy) break ;;
    starting) sleep 1 ;;
    *) echo "unexpected health status: $status" >&2; exit 1 ;;
  esac
done
[ "$status" = healthy ] || { echo "not healthy in time: $status" >&2; exit 1; }
# The same with the json form some scripts use.
docker inspect --format '{{json .State.Health}}' web | grep -q '"Status":"healthy"'

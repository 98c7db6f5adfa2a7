#!/bin/bash
# A CI job starting a service container and cleaning it up in an EXIT trap.
set -eu
out=$(mktemp)
(
  set -eu
  cid=$(docker run -d "$IMG" sleep 300)
  trap 'docker rm -vf $cid' EXIT
  echo "$cid" > "$out"
  [[ "$cid" =~ ^[0-9a-f]{64}$ ]] || { echo "run -d printed: $cid" >&2; exit 1; }
  [ "$(docker inspect -f '{{.State.Running}}' "$cid")" = true ]
  docker ps -q --no-trunc | grep -qx "$cid"
)
cid=$(cat "$out")
rm -f "$out"
# The trap removed it.
if docker ps -aq --no-trunc | grep -q "$cid"; then
  echo "container $cid still listed after the trap" >&2
  exit 1
fi
if docker inspect "$cid" >/dev/null 2>&1; then
  echo "inspect still finds $cid" >&2
  exit 1
fi
# A second cleanup of the same container (trap and explicit rm both ran):
# rm -f of a missing container reports it but does not fail.
docker rm -vf "$cid" 2>/dev/null

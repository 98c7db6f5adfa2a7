#!/bin/bash
# Exit codes scripts branch on: the container's own, berth's 125/126/127,
# `wait`, `exec`, signals after `stop`, and missing objects.
set -eu
code() { set +e; "$@" >/dev/null 2>&1; echo $?; set -e; }
[ "$(code docker run --rm "$IMG" sh -c 'exit 42')" = 42 ]
[ "$(code docker run "$IMG" true)" = 0 ]
[ "$(code docker run --rm --no-such-flag "$IMG" true)" = 125 ]
[ "$(code docker run --rm "$REGISTRY/library/missing:latest" true)" = 125 ]
[ "$(code docker run --rm "$IMG" /etc/passwd)" = 126 ]
[ "$(code docker run --rm "$IMG" no-such-command)" = 127 ]
# The run-tests-in-a-container idiom.
if docker run --rm "$IMG" sh -c 'test 1 = 2'; then echo "failing tests passed" >&2; exit 1; fi

# wait prints the exit code.
cid=$(docker run -d "$IMG" sh -c 'sleep 1; exit 7')
trap 'docker rm -f "$cid" >/dev/null 2>&1 || true; docker rm -f svc >/dev/null 2>&1 || true' EXIT
[ "$(docker wait "$cid")" = 7 ]
[ "$(docker inspect -f '{{.State.ExitCode}}' "$cid")" = 7 ]
[ "$(docker inspect -f '{{.State.Status}}' "$cid")" = exited ]

# exec returns the command's code.
docker run -d --name svc "$IMG" sleep 300 >/dev/null
[ "$(code docker exec svc sh -c 'exit 3')" = 3 ]
[ "$(code docker exec svc no-such-command)" = 127 ]
# A PID 1 without a SIGTERM handler ignores it: stop has to SIGKILL (137).
docker stop -t 1 svc | grep -qx svc
[ "$(docker inspect -f '{{.State.ExitCode}}' svc)" = 137 ]
[ "$(docker inspect -f '{{.State.Running}}' svc)" = false ]
# A shell that handles TERM exits with its own code.
docker rm svc >/dev/null
docker run -d --name svc "$IMG" sh -c 'trap "exit 143" TERM; while true; do sleep 0.2; done' >/dev/null
sleep 0.5
docker stop svc >/dev/null
[ "$(docker wait svc)" = 143 ]

# Missing objects: exit 1, and the documented stdout.
[ "$(code docker inspect no-such-thing)" = 1 ]
[ "$(docker inspect no-such-thing 2>/dev/null || true)" = "[]" ]
[ -z "$(docker inspect -f '{{.State.Running}}' no-such-thing 2>/dev/null || true)" ]
if [ "$(docker inspect -f '{{.State.Running}}' no-such-thing 2>/dev/null)" != true ]; then :; else exit 1; fi
docker inspect no-such-thing 2>&1 >/dev/null | grep -q 'No such object: no-such-thing'
[ "$(code docker image inspect "$REGISTRY/library/missing:latest")" = 1 ]
[ "$(code docker pull "$REGISTRY/library/missing:latest")" = 1 ]
[ "$(code docker rm no-such-thing)" = 1 ]

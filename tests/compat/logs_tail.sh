#!/bin/bash
# Reading the last line of a container's output (a generated password, a
# port, a status).
set -eu
docker run --name gen "$IMG" sh -c 'echo first; echo second; echo "token=abc123"' >/dev/null
trap 'docker rm -f gen >/dev/null' EXIT
[ "$(docker logs --tail=1 gen)" = "token=abc123" ]
[ "$(docker logs --tail 1 gen)" = "token=abc123" ]
[ "$(docker logs --tail=2 gen | head -n1)" = "second" ]
[ "$(docker logs gen | wc -l)" -eq 3 ]
token=$(docker logs --tail=1 gen | cut -d= -f2)
[ "$token" = abc123 ]
# stderr stays stderr; --tail counts lines of both streams together.
docker run --name err "$IMG" sh -c 'echo out; sleep 0.1; echo oops >&2' >/dev/null 2>&1
trap 'docker rm -f gen err >/dev/null' EXIT
[ "$(docker logs --tail=1 err 2>/dev/null)" = "" ]
[ "$(docker logs --tail=1 err 2>&1 >/dev/null)" = "oops" ]
[ "$(docker logs --tail=2 err 2>/dev/null)" = "out" ]
[ "$(docker logs --tail=2 err 2>&1 >/dev/null)" = "oops" ]

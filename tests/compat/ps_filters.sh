#!/bin/bash
# Finding containers by name and status, as cleanup scripts do.
set -eu
trap 'docker rm -f ci-web ci-job other >/dev/null 2>&1 || true' EXIT
web=$(docker run -d --name ci-web "$IMG" sleep 300)
docker run --name ci-job "$IMG" true
docker run --name other "$IMG" sh -c 'exit 3' || [ $? -eq 3 ]

short() { echo "${1:0:12}"; }
job=$(docker inspect -f '{{.Id}}' ci-job)
other=$(docker inspect -f '{{.Id}}' other)

# name= matches a substring.
[ "$(docker ps -aq -f name=ci- | sort)" = "$(printf '%s\n' "$(short "$web")" "$(short "$job")" | sort)" ]
[ "$(docker ps -q -f name=ci-)" = "$(short "$web")" ]
[ "$(docker ps -aq -f name=ci-job)" = "$(short "$job")" ]
[ -z "$(docker ps -aq -f name=nothing-like-this)" ]
# status=exited, alone and ANDed with name.
[ "$(docker ps -aq -f status=exited | sort)" = "$(printf '%s\n' "$(short "$job")" "$(short "$other")" | sort)" ]
[ "$(docker ps -aq -f status=exited -f name=ci-)" = "$(short "$job")" ]
[ "$(docker ps -aq -f status=running)" = "$(short "$web")" ]
# exited=N
[ "$(docker ps -aq -f exited=3)" = "$(short "$other")" ]
# The common "remove if it exists" idiom.
if [ -n "$(docker ps -aq -f name=^/other$)" ]; then docker rm other >/dev/null; fi
[ -z "$(docker ps -aq -f name=other)" ]
# Clean all exited ones.
docker rm $(docker ps -aq -f status=exited) >/dev/null
[ "$(docker ps -aq)" = "$(short "$web")" ]

#!/bin/bash
# A CI build: -f, several -t, --build-arg, --target, .dockerignore.
set -eu
mkdir -p ctx/docker ctx/secrets
echo keep > ctx/keep.txt
echo hidden > ctx/secrets/token
printf 'secrets\n*.log\n' > ctx/.dockerignore
echo noise > ctx/debug.log
cat > ctx/docker/Dockerfile.ci <<EOF
FROM $IMG AS base
ARG VERSION=dev
RUN echo "\$VERSION" > /version
COPY . /app

FROM base AS test
RUN test -f /app/keep.txt && ! test -e /app/secrets && ! test -e /app/debug.log
RUN echo tested > /tested

FROM base AS release
# ARGs are scoped to their stage: declared again to be used here.
ARG VERSION
LABEL org.opencontainers.image.version=\$VERSION
EOF
docker build -q -f ctx/docker/Dockerfile.ci --build-arg VERSION=1.2.3 \
  --target release -t app:1.2.3 -t app:latest ctx >/dev/null
[ "$(docker run --rm app:1.2.3 cat /version)" = 1.2.3 ]
[ "$(docker images -q app:1.2.3)" = "$(docker images -q app:latest)" ]
[ "$(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.version"}}' app:latest)" = 1.2.3 ]
[ "$(docker run --rm app:latest ls /app | sort | tr '\n' ' ')" = "docker keep.txt " ]
# The test stage runs the checks; release never contains its file.
docker build -q -f ctx/docker/Dockerfile.ci --target test -t app:test ctx >/dev/null
[ "$(docker run --rm app:test cat /tested /version | tr '\n' ' ')" = "tested dev " ]
if docker run --rm app:latest test -e /tested; then echo "release has the test stage's file" >&2; exit 1; fi
# A failing RUN fails the build with a non-zero code.
set +e
printf 'FROM %s\nRUN exit 9\n' "$IMG" | docker build -q - >/dev/null 2>&1
rc=$?
set -e
[ $rc -ne 0 ]
# Image housekeeping used by CI cleanup steps.
docker rmi app:test >/dev/null
docker images --format '{{.Repository}}:{{.Tag}}' | grep -qx app:1.2.3
if docker images --format '{{.Repository}}:{{.Tag}}' | grep -qx app:test; then exit 1; fi

#!/bin/bash
# A release job: log in with a secret from the environment, tag, push, and
# pull back by digest.
set -eu
docker pull -q "$IMG" >/dev/null
target="$AUTH_REGISTRY/team/app:1.0"
docker tag "$IMG" "$target"
# Not logged in: push fails.
if docker push "$target" >/dev/null 2>&1; then echo "push without login succeeded" >&2; exit 1; fi
echo "$AUTH_PASS" | docker login --password-stdin -u "$AUTH_USER" "$AUTH_REGISTRY" | grep -qx 'Login Succeeded'
out=$(docker push "$target")
digest=$(echo "$out" | sed -nE 's/^1\.0: digest: (sha256:[0-9a-f]{64}) size: [0-9]+$/\1/p')
[ -n "$digest" ] || { echo "no digest line in push output:" >&2; echo "$out" >&2; exit 1; }
docker rmi "$target" "$IMG" >/dev/null
[ "$(docker images -q | wc -l)" -eq 0 ]
docker pull -q "$AUTH_REGISTRY/team/app@$digest" >/dev/null
docker images --digests --format '{{.Repository}} {{.Digest}}' | grep -qx "$AUTH_REGISTRY/team/app $digest"
[ "$(docker run --rm "$AUTH_REGISTRY/team/app@$digest" echo ok)" = ok ]
docker logout "$AUTH_REGISTRY" >/dev/null

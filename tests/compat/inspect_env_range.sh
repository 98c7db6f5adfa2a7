#!/bin/bash
# Reading a container's environment back, one variable per line.
set -eu
docker run -d --name app -e APP_MODE=production -e "WITH_SPACE=a b" "$IMG" sleep 300 >/dev/null
trap 'docker rm -f app >/dev/null' EXIT
env_lines=$(docker inspect --format '{{range .Config.Env}}{{.}}{{"\n"}}{{end}}' app)
echo "$env_lines" | grep -qx 'APP_MODE=production'
echo "$env_lines" | grep -qx 'WITH_SPACE=a b'
echo "$env_lines" | grep -q '^PATH='
mode=$(docker inspect --format '{{range .Config.Env}}{{.}}{{"\n"}}{{end}}' app | grep '^APP_MODE=' | cut -d= -f2)
[ "$mode" = production ]
# json form parsed by scripts.
docker inspect --format '{{json .Config.Env}}' app | grep -q '"APP_MODE=production"'
# index on labels and the image's own name.
[ "$(docker inspect -f '{{.Config.Image}}' app)" = "$IMG" ]
[ "$(docker inspect -f '{{.Name}}' app)" = /app ]

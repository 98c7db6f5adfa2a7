#!/bin/bash
# Flag spellings scripts use: inherited -e, --env-file, --env=, -w to a
# missing dir, arguments after the image, flags after names, labels.
set -eu
export FROM_CALLER="caller value"
printf '# comment\nFILE_A=1\nFILE_B=two words\n' > app.env
out=$(docker run --rm -e FROM_CALLER --env-file app.env --env=EQ=x=y -w /work/dir "$IMG" \
  sh -c 'echo "$FROM_CALLER|$FILE_A|$FILE_B|$EQ|$(pwd)"')
[ "$out" = "caller value|1|two words|x=y|/work/dir" ] || { echo "got: $out" >&2; exit 1; }
# Everything after the image belongs to the command.
[ "$(docker run --rm "$IMG" echo -la --rm -e X)" = "-la --rm -e X" ]
# Labels, read back by inspect and matched by ps.
docker run -d --name lbl --label com.example.role=worker --label team=ci "$IMG" sleep 300 >/dev/null
trap 'docker rm -f lbl >/dev/null 2>&1 || true' EXIT
[ "$(docker inspect -f '{{index .Config.Labels "com.example.role"}}' lbl)" = worker ]
[ "$(docker ps -q -f label=team=ci)" = "$(docker inspect -f '{{.Id}}' lbl | cut -c1-12)" ]
[ -z "$(docker ps -q -f label=team=other)" ]
[ "$(docker ps -f label=team --format '{{.Names}} {{.Label "com.example.role"}}')" = "lbl worker" ]
# ps table formats.
docker ps --format 'table {{.Names}}\t{{.Status}}' > table.txt
head -n1 table.txt | grep -Eq '^NAMES +STATUS$'
sed -n 2p table.txt | grep -Eq '^lbl +Up '
# Default ps header.
docker ps | head -n1 | grep -Eq '^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$'
# Flags after the container name for berth's own commands.
docker rm lbl -f | grep -qx lbl

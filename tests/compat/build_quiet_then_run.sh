#!/bin/bash
# An image built on the fly and used by ID.
set -eu
id=$(docker build -q - <<EOF
FROM $IMG
RUN echo built-at-build-time > /file
ENV GREETING=hi
CMD ["sh", "-c", "echo \$GREETING"]
EOF
)
[[ "$id" =~ ^sha256:[0-9a-f]{64}$ ]] || { echo "build -q printed: $id" >&2; exit 1; }
[ "$(docker run --rm "$id" cat /file)" = built-at-build-time ]
[ "$(docker run --rm "$id")" = hi ]
# From a context directory with a tag, twice: the second build is cached
# and gives the same ID.
mkdir ctx
echo data > ctx/data.txt
printf 'FROM %s\nCOPY data.txt /data.txt\n' "$IMG" > ctx/Dockerfile
id1=$(docker build -q -t myapp:ci ctx)
id2=$(docker build -q -t myapp:ci ctx)
[ "$id1" = "$id2" ]
[ "$(docker run --rm myapp:ci cat /data.txt)" = data ]
[ "$(docker images -q --no-trunc myapp:ci)" = "$id1" ]

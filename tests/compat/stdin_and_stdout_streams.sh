#!/bin/bash
# Scripts fed to a container on stdin, and binary output captured on the host.
set -eu
printf 'echo from-script\nexit 5\n' > script.sh
set +e; out=$(docker run -i --rm "$IMG" sh -s < script.sh); rc=$?; set -e
[ "$out" = from-script ] && [ $rc = 5 ]
out=$(docker run --rm -i "$IMG" sh <<'EOF'
set -e
x=$((6 * 7))
echo "answer=$x"
EOF
)
[ "$out" = answer=42 ]
# Piping through a container as a filter.
[ "$(printf 'b\na\nc\n' | docker run --rm -i "$IMG" sort | tr -d '\n')" = abc ]
# Without -i the container gets no stdin.
[ "$(echo ignored | docker run --rm "$IMG" cat)" = "" ]
# Binary stdout intact: the image's busybox is this machine's busybox-static.
[ "$(docker run --rm "$IMG" cat /bin/busybox | md5sum)" = "$(md5sum < /bin/busybox)" ]
# A tar of the container's files streamed out.
docker run --rm -w /etc "$IMG" tar -c passwd group | tar -x
grep -q '^root:' passwd && grep -q '^root:' group

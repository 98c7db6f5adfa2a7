#!/bin/bash
# The build-in-container pattern: compile with the project mounted, as the
# caller, and find the artifacts on the host owned by the caller.
set -eu
mkdir -p src
printf 'hello from the source\n' > src/input.txt
docker run --rm -v "$PWD":/src -w /src -u "$(id -u):$(id -g)" "$IMG" \
  sh -c 'mkdir -p build && tr a-z A-Z < src/input.txt > build/output.txt && id -u > build/uid'
test -f build/output.txt
[ "$(cat build/output.txt)" = "HELLO FROM THE SOURCE" ]
[ "$(cat build/uid)" = "$(id -u)" ]
[ "$(stat -c %u:%g build/output.txt)" = "$(id -u):$(id -g)" ]
[ "$(stat -c %u:%g build)" = "$(id -u):$(id -g)" ]
# The caller can clean up what the container made (make clean).
rm -rf build

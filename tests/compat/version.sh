#!/bin/bash
# Tools sniff `docker --version` (kind, CI setup actions): installed as a
# symlink named docker, berth must answer with docker's prefix.
set -eu
bindir=$(mktemp -d)
trap 'rm -rf "$bindir"' EXIT
ln -s "$BERTH" "$bindir/docker"
v=$("$bindir/docker" --version)
case "$v" in
  "Docker version "*) ;;
  *) echo "unexpected: $v" >&2; exit 1 ;;
esac
# The version number as scripts extract it.
num=$(echo "$v" | sed -E 's/^Docker version ([0-9]+)\.([0-9]+)\..*/\1/')
[ "$num" -ge 20 ] || { echo "major version $num from: $v" >&2; exit 1; }
# And through `docker version --format`.
cv=$("$bindir/docker" version --format '{{.Client.Version}}')
echo "$cv" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+' || { echo "Client.Version: $cv" >&2; exit 1; }

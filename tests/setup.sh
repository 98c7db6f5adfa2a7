#!/usr/bin/env bash
# Prepares a fresh Debian 12 machine (as root) for berth's test suite:
# the packages the tests use, and the unprivileged user rootless tests run as.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "tests/setup.sh must run as root (it installs packages and creates the test user)" >&2
  exit 1
fi
here=$(cd "$(dirname "$0")" && pwd)
export DEBIAN_FRONTEND=noninteractive
packages=(
  uidmap          # newuidmap/newgidmap: berth's rootless user namespaces
  docker-registry # the CNCF distribution registry the tests pull from
  busybox-static  # the files fixture images are built from
  apache2-utils   # htpasswd, for the basic-auth registry
  openssl         # keys and JWT signatures for the token-auth registry
  attr            # getfattr/setfattr, to check xattrs by hand
  util-linux      # setpriv, to run berth as the test user
  tini            # tini-static, the init `run --init` binds into containers
  fuse-overlayfs  # the rootfs storage driver overlay falls back to (tests/overlay.rs)
  passt           # pasta: the rootless default network and published ports
  slirp4netns     # the fallback network helper when pasta is missing
  iproute2        # ip: bridges and veth pairs of user-defined networks
  nftables        # nft: NAT and published ports of bridge networks
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# Debian starts docker-registry as a service on :5000; the tests start their own.
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now docker-registry >/dev/null 2>&1 || true; fi
# No udev: /dev/fuse is 0600 root, so rootless fuse-overlayfs cannot open it (DESIGN §6).
if [ -c /dev/fuse ]; then chmod 0666 /dev/fuse; fi
bash "$here/setup-test-user.sh"
# A second user without /etc/subuid ranges: berth's single-id fallback.
BERTH_TEST_USER="${BERTH_TEST_NOSUB_USER:-berthnosub}" BERTH_TEST_NO_SUBIDS=1 bash "$here/setup-test-user.sh"

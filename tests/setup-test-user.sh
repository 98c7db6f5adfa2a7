#!/bin/bash
# Prepares this machine for berth's rootless integration tests. Idempotent;
# run as root (CI does, before `cargo test`):
#
#   - creates the unprivileged user $BERTH_TEST_USER (default berthtest),
#     home under /home;
#   - gives it a 65536-wide range in /etc/subuid and /etc/subgid (or, with
#     BERTH_TEST_NO_SUBIDS=1, makes sure it has none);
#   - creates /run/user/UID (0700, no logind here) for manual use;
#   - makes /dev/net/tun and /dev/fuse 0666 when they exist (rootless pasta,
#     slirp4netns and fuse-overlayfs need them; see DESIGN.md §6);
#   - makes the cargo target dir (CARGO_TARGET_DIR or <repo>/target) and its
#     parents searchable (o+x) so the user can execute target/debug/berth.
#
# Needs: passwd (useradd), coreutils, util-linux; uidmap for newuidmap.
set -euo pipefail

USER_NAME="${BERTH_TEST_USER:-berthtest}"
RANGE=65536
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$REPO/target}"

say() { echo "setup-test-user: $*"; }

if [ "$(id -u)" != 0 ]; then
    echo "setup-test-user: must run as root" >&2
    exit 1
fi

# 1. The user.
if getent passwd "$USER_NAME" >/dev/null; then
    say "user $USER_NAME exists ($(id "$USER_NAME"))"
else
    useradd --create-home --home-dir "/home/$USER_NAME" --shell /bin/sh --user-group "$USER_NAME"
    say "created user $USER_NAME ($(id "$USER_NAME"))"
fi
USER_UID="$(id -u "$USER_NAME")"

# 2. Subordinate ids: keep an existing range of >= 65536, else append one
#    after every range already in the file (never below 100000).
#    BERTH_TEST_NO_SUBIDS=1: the opposite, remove the user's ranges (a user
#    for berth's single-id fallback, e.g. berthnosub).
if [ "${BERTH_TEST_NO_SUBIDS:-0}" = 1 ]; then
    for f in /etc/subuid /etc/subgid; do
        touch "$f"
        if grep -qE "^($USER_NAME|$USER_UID):" "$f"; then
            sed -i -E "/^($USER_NAME|$USER_UID):/d" "$f"
            say "$f: removed the ranges of $USER_NAME"
        else
            say "$f: no range for $USER_NAME (as wanted)"
        fi
    done
fi
for f in /etc/subuid /etc/subgid; do
    [ "${BERTH_TEST_NO_SUBIDS:-0}" = 1 ] && break
    touch "$f"
    if awk -F: -v u="$USER_NAME" -v id="$USER_UID" -v n="$RANGE" \
        '($1 == u || $1 == id) && $3 >= n { ok = 1 } END { exit !ok }' "$f"; then
        say "$f: $(grep -E "^($USER_NAME|$USER_UID):" "$f" | head -n1) (kept)"
    else
        start="$(awk -F: 'BEGIN { m = 100000 } NF >= 3 { e = $2 + $3; if (e > m) m = e } END { print m }' "$f")"
        echo "$USER_NAME:$start:$RANGE" >>"$f"
        say "$f: added $USER_NAME:$start:$RANGE"
    fi
done

# 3. A runtime dir as logind would make it.
if [ -d /run ]; then
    install -d -m 0700 -o "$USER_NAME" -g "$(id -g "$USER_NAME")" "/run/user/$USER_UID"
    say "/run/user/$USER_UID ready (0700, $USER_NAME)"
fi

# 4. Devices for rootless networking and fuse-overlayfs.
for dev in /dev/net/tun /dev/fuse; do
    if [ -e "$dev" ]; then
        if [ "$(stat -c %a "$dev")" != 666 ]; then
            chmod 0666 "$dev"
            say "$dev: chmod 0666"
        else
            say "$dev: already 0666"
        fi
    else
        say "$dev: not present (skipped)"
    fi
done

# 5. The target dir must be reachable by the user: o+x on it and every parent.
mkdir -p "$TARGET"
dir="$(cd "$TARGET" && pwd -P)"
while :; do
    mode="$(stat -c %a "$dir")"
    if [ $((8#$mode & 1)) -eq 0 ]; then
        chmod o+x "$dir"
        say "$dir: chmod o+x (was $mode)"
    fi
    [ "$dir" = / ] && break
    dir="$(dirname "$dir")"
done
for sub in debug debug/deps; do
    [ -d "$TARGET/$sub" ] && chmod o+rx "$TARGET/$sub"
done
say "$TARGET is reachable by $USER_NAME"
if [ -x "$TARGET/debug/berth" ]; then
    if setpriv --reuid="$USER_UID" --regid="$(id -g "$USER_NAME")" --init-groups test -x "$TARGET/debug/berth"; then
        say "$USER_NAME can execute $TARGET/debug/berth"
    else
        echo "setup-test-user: $USER_NAME still cannot execute $TARGET/debug/berth" >&2
        exit 1
    fi
fi
say "done"

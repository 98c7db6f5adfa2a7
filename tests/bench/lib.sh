# Shared by the benchmark scripts (sourced, not run): messages, dependency
# checks, clean-up of what an earlier run left, and the private registry.
# Functions read the caller's globals ($run, $is_root, $have_podman, $missing).
# shellcheck shell=bash disable=SC2154 # the callers own those globals

say() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() { printf '%s: %s\n' "${0##*/}" "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$2 (for $1)"); }

unmount_under() { # unmounts everything below and at $1, deepest first
  local m
  while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done < <(awk -v p="$1" '$5 == p || index($5, p "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r)
}

wipe_as_user() {
  if [ "$have_podman" = 1 ] && "$run/as-bench" podman unshare rm -rf "$@" 2>/dev/null; then return 0; fi
  local su sg
  su=$(awk -F: -v u="$(id -un)" -v i="$(id -u)" '$1 == u || $1 == i { print $2 "," 1 "," $3; exit }' /etc/subuid)
  sg=$(awk -F: -v u="$(id -un)" -v i="$(id -u)" '$1 == u || $1 == i { print $2 "," 1 "," $3; exit }' /etc/subgid)
  unshare --map-root-user --map-users="$su" --map-groups="$sg" rm -rf "$@"
}

stale_kill() { # PIDFILE PATTERN: kills the process if its command line matches
  local pid
  [ -s "$1" ] && pid=$(cat "$1") && [[ $pid =~ ^[0-9]+$ ]] &&
    { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -q -- "$2" &&
    kill "$pid" 2>/dev/null && note "stopped $2 (pid $pid) left by an earlier run"
  return 0
}

# Starts docker-registry on a free loopback port with its data under
# $run/registry; sets port and registry_pid.
start_registry() {
  port=$(python3 "$here/image.py" free-port)
  mkdir -p "$run/registry/data"
  cat >"$run/registry/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $run/registry/data
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
EOF
  say "registry: docker-registry on 127.0.0.1:$port (log: $run/registry/log)"
  docker-registry serve "$run/registry/config.yml" >"$run/registry/log" 2>&1 9>&- &
  registry_pid=$!
  echo "$registry_pid" >"$run/registry/pid"
  python3 "$here/image.py" wait-registry "http://127.0.0.1:$port" 20 ||
    { tail -n 20 "$run/registry/log" >&2; die "docker-registry did not start"; }
}

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

# Starts docker-registry on a free loopback port with its data under DIR
# (default $run/registry); sets port and registry_pid.
start_registry() {
  local dir=${1:-$run/registry}
  port=$(python3 "$here/image.py" free-port)
  mkdir -p "$dir/data"
  cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
EOF
  say "registry: docker-registry on 127.0.0.1:$port (log: $dir/log)"
  docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 9>&- &
  registry_pid=$!
  echo "$registry_pid" >"$dir/pid"
  python3 "$here/image.py" wait-registry "http://127.0.0.1:$port" 20 ||
    { tail -n 20 "$dir/log" >&2; die "docker-registry did not start"; }
}

# Who the tools run as, from $is_root and $rootless_user (--rootless USER):
# sets run_uid, run_gid, run_user ("" for root), mode (for the summary) and,
# when the script is not root, rootless_user (the caller). A rootless user
# needs /etc/subuid and /etc/subgid ranges.
resolve_mode() {
  if [ "$is_root" = 1 ]; then
    if [ -n "$rootless_user" ]; then
      id "$rootless_user" >/dev/null 2>&1 || die "no such user: $rootless_user"
      run_uid=$(id -u "$rootless_user")
      run_gid=$(id -g "$rootless_user")
      [ "$run_uid" -ne 0 ] || die "--rootless wants an unprivileged user"
      mode="rootless ($rootless_user, uid $run_uid)"
    else
      run_uid=0
      run_gid=0
      mode="root"
    fi
  else
    local me
    me=$(id -un)
    if [ -n "$rootless_user" ] && [ "$rootless_user" != "$me" ]; then
      die "--rootless $rootless_user: only root can switch users (run as root, or drop --rootless)"
    fi
    rootless_user=$me
    run_uid=$(id -u)
    run_gid=$(id -g)
    mode="rootless ($me, uid $run_uid; the script is not root)"
  fi
  run_user=""
  [ "$run_uid" -ne 0 ] || return 0
  run_user=$(id -un "$run_uid")
  local f
  for f in /etc/subuid /etc/subgid; do
    grep -qE "^($run_user|$run_uid):" "$f" 2>/dev/null ||
      die "$run_user has no range in $f (rootless berth and podman need one)"
  done
}

# ---- shared set-up for scripts laid out like run.sh (lifecycle.sh uses these;
# run.sh still has its own copies). They read the caller's globals, named as
# in run.sh: run, port, run_uid, run_gid, run_user, is_root, home, xdg_run,
# big_tmp, b_data, b_run, b_conf, p_graph, p_run, p_tmp.

# Writes podman's private registries.conf, storage.conf and containers.conf
# into $run/containers (loopback registry insecure; stores where the script
# wants them; default ulimits clamped to this host's hard limits, DESIGN.md §6).
write_podman_confs() {
  local nofile_hard nproc_hard pid_max
  mkdir -p "$run/containers"
  cat >"$run/containers/registries.conf" <<EOF
unqualified-search-registries = []

[[registry]]
location = "127.0.0.1:$port"
insecure = true
EOF
  cat >"$run/containers/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$p_graph"
runroot = "$p_run"
# rootless podman reads this one instead of graphroot from this file
rootless_storage_path = "$p_graph"
EOF
  nofile_hard=$(ulimit -Hn)
  nproc_hard=$(ulimit -Hu)
  pid_max=$(cat /proc/sys/kernel/pid_max 2>/dev/null || echo 32768)
  if [ "$nproc_hard" = unlimited ] || [ "$nproc_hard" -gt "$pid_max" ]; then nproc_hard=$pid_max; fi
  cat >"$run/containers/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile_hard:$nofile_hard", "nproc=$nproc_hard:$nproc_hard"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
image_copy_tmp_dir = "$big_tmp"
tmp_dir = "$p_tmp"
EOF
}

# Writes $run/as-bench: `as-bench CMD...` runs CMD as the benchmark user in a
# clean environment (env -i, and setpriv when root benchmarks another user),
# with berth's and podman's private stores and configs. Every timed command
# goes through it, so its cost (about a millisecond) is the same for each.
write_as_bench() {
  local podman_ns=0
  if [ "$(id -u)" = 0 ] && mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then
    start_podman_mount_ns </dev/null >/dev/null 2>&1
    podman_ns=1
  fi
  {
    echo '#!/bin/bash'
    # crun refuses a hybrid cgroup host ("cgroups in hybrid mode not
    # supported"): as root, podman runs in a mount namespace of its own
    # without /sys/fs/cgroup/unified (plain v1 to it), one for the whole run
    # so the network namespaces podman mounts under /run/netns stay visible.
    if [ "$podman_ns" = 1 ]; then
      # shellcheck disable=SC2016 # expanded by as-bench, not here
      echo 'if [ "$1" = podman ] && [ -z "${BENCH_IN_PODMAN_NS:-}" ]; then'
      printf '  BENCH_IN_PODMAN_NS=1 exec nsenter -t %q -m -- "$0" "$@"\n' "$(cat "$run/podman-ns.pid")"
      echo 'fi'
    fi
    printf 'exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8'
    printf ' %q' "HOME=$home" "USER=${run_user:-root}" "LOGNAME=${run_user:-root}" "TMPDIR=$big_tmp" \
      "BERTH_ROOT=$b_data" "BERTH_RUNROOT=$b_run" "BERTH_CONFIG_DIR=$b_conf" \
      "XDG_CONFIG_HOME=$home/.config" "XDG_DATA_HOME=$home/.local/share" "XDG_CACHE_HOME=$home/.cache" \
      "CONTAINERS_CONF=$run/containers/containers.conf" \
      "CONTAINERS_REGISTRIES_CONF=$run/containers/registries.conf" \
      "CONTAINERS_STORAGE_CONF=$run/containers/storage.conf"
    if [ "$run_uid" -ne 0 ]; then
      printf ' %q' "XDG_RUNTIME_DIR=$xdg_run"
      if [ "$is_root" = 1 ]; then
        printf ' %q' /usr/bin/setpriv "--reuid=$run_uid" "--regid=$run_gid" --init-groups --
      fi
    fi
    printf ' "$@"\n'
  } >"$run/as-bench"
  chmod 0755 "$run/as-bench"
}

# Starts the holder of podman's mount namespace (see write_as_bench); its
# pid in $run/podman-ns.pid.
start_podman_mount_ns() {
  stale_kill "$run/podman-ns.pid" "podman-mount-ns"
  unshare -m --propagation private -- bash -c \
    'umount /sys/fs/cgroup/unified && exec -a podman-mount-ns sleep infinity' &
  echo $! >"$run/podman-ns.pid"
  sleep 0.2
}

# Kills the pause process rootless podman leaves behind (it holds the user
# namespace), from $run/podman-tmp/pause.pid, and the holder of podman's
# mount namespace.
stop_podman_pause() {
  stale_kill "$run/podman-ns.pid" "podman-mount-ns"
  local pause=$run/podman-tmp/pause.pid pid
  if [ -s "$pause" ]; then
    pid=$(cat "$pause")
    [[ $pid =~ ^[0-9]+$ ]] && kill "$pid" 2>/dev/null
  fi
  return 0
}

#!/usr/bin/env bash
# Run-latency benchmark: `berth run --rm IMAGE true` against podman (when
# installed) and `crun run` of a prepared bundle of the same rootfs, same image,
# same store file system, same hyperfine run; then 20 berth runs at once
# against one.
#
# Usage: tests/bench/run.sh [--runs N] [--burst N] [--berth PATH]
#                           [--rootless USER] [--no-strace] [--keep] [--clean]
#
#   --runs N         timed runs per command (default 20), after 3 warmup runs
#   --burst N        containers started at once in the concurrency test
#                    (default 20)
#   --berth PATH     the berth binary (default $BERTH, else target/release/berth
#                    of this repository)
#   --rootless USER  run every tool as USER (needs root to switch; USER needs
#                    /etc/subuid and /etc/subgid ranges). Default: as root.
#                    When the script itself is not root, the tools run as the
#                    calling user.
#   --no-strace      skip the `strace -c -f` profile of one berth run
#   --keep           keep this script's run state (stores, registry data,
#                    loop file, crun bundle)
#   --clean          delete this script's part of the bench dir (busybox image
#                    cache, run state, its results) and exit
#
# Environment: BENCH_DIR (default /var/tmp/berth-bench, shared with pull.sh;
# the two hold the same lock), BERTH.
#
# What it does:
#  1. builds (once; cached in $BENCH_DIR/busybox-image) a one-layer busybox
#     image from Debian's busybox-static (tests/bench/image.py build-busybox:
#     /bin/busybox, every applet as a symlink, minimal /etc/passwd and
#     /etc/group);
#  2. starts docker-registry on a free 127.0.0.1 port and pushes the image over
#     the registry HTTP API;
#  3. as root, makes a fresh ext4 loop file system (with a journal) for both
#     stores (DESIGN.md §6); not as root, a plain directory;
#  4. pulls the image with each tool (untimed) and checks that each can run it
#     (a tool that cannot is left out, with its output shown); prepares a crun
#     bundle from the same layer and tries `crun run` (crun 1.8 refuses to run
#     on a hybrid cgroup host with a controller in the cgroup2 hierarchy,
#     DESIGN.md §6: then it is left out and the reason shown);
#  5. times, in one hyperfine run (--warmup 3 --runs N):
#       berth run --rm IMAGE true                  (berth's default network)
#       berth run --rm --network none IMAGE true
#       podman run --rm --network none IMAGE true
#       crun run --bundle B ID                     (when crun can run here)
#  6. times, in a second hyperfine run, one `berth run --rm IMAGE true` and N
#     of them started at once (background jobs, then wait for each; any
#     failure fails the command), both through the same bash script;
#  7. profiles one berth run with `strace -f -c` (wall-clock and system time
#     per syscall) when strace is installed;
#  8. prints the medians and the ratios against issue 3's targets
#     (berth/podman <= 0.1, berth/crun <= 1.5, N at once / one <= 3).
# The registry, podman's pause process and the loop mount are removed at exit,
# and the run state deleted (the image cache and the hyperfine JSON in
# $BENCH_DIR/results stay).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"
repo_root=$(cd "$here/../.." && pwd)

runs=20
burst=20
berth=${BERTH:-$repo_root/target/release/berth}
rootless_user=""
do_strace=1
keep=0
clean=0
bench_dir=${BENCH_DIR:-/var/tmp/berth-bench}
store_fs_size=1G
repo_name=bench/busybox
tag=latest
warmup=3

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

while [ $# -gt 0 ]; do
  case $1 in
    --runs) [ $# -ge 2 ] || die "--runs needs a number"; runs=$2; shift 2 ;;
    --runs=*) runs=${1#*=}; shift ;;
    --burst) [ $# -ge 2 ] || die "--burst needs a number"; burst=$2; shift 2 ;;
    --burst=*) burst=${1#*=}; shift ;;
    --berth) [ $# -ge 2 ] || die "--berth needs a path"; berth=$2; shift 2 ;;
    --berth=*) berth=${1#*=}; shift ;;
    --rootless) [ $# -ge 2 ] || die "--rootless needs a user name"; rootless_user=$2; shift 2 ;;
    --rootless=*) rootless_user=${1#*=}; shift ;;
    --no-strace) do_strace=0; shift ;;
    --keep) keep=1; shift ;;
    --clean) clean=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "--runs wants a positive number, not '$runs'"
[[ $burst =~ ^[1-9][0-9]*$ ]] || die "--burst wants a positive number, not '$burst'"
case $berth in /*) ;; *) berth=$PWD/$berth ;; esac
case $bench_dir in /*) ;; *) bench_dir=$PWD/$bench_dir ;; esac

run=$bench_dir/runlat
mnt=$bench_dir/runlat-mnt
loop_file=$bench_dir/runlat.ext4
results=$bench_dir/results
image_cache=$bench_dir/busybox-image

if [ "$clean" = 1 ]; then
  if mountpoint -q "$mnt" 2>/dev/null; then die "$mnt is mounted: is a run going on?"; fi
  rm -rf "$run" "$mnt" "$loop_file" "$image_cache" "$results"/run-*.json "$results"/run-*.strace
  say "removed run.sh's state under $bench_dir (pull.sh's is untouched)"
  exit 0
fi

# ---------------------------------------------------------------- dependencies
missing=()
need hyperfine hyperfine
need docker-registry docker-registry
need python3 python3
need tar tar
need flock util-linux
need setpriv util-linux
busybox_bin=""
for b in /bin/busybox /usr/bin/busybox; do
  # busybox-static only: a dynamic busybox would need its libraries in the image
  if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then busybox_bin=$b; break; fi
done
[ -n "$busybox_bin" ] || missing+=("busybox-static (for a static /bin/busybox)")
is_root=0
[ "$(id -u)" -eq 0 ] && is_root=1
if [ "$is_root" = 1 ]; then
  need mkfs.ext4 e2fsprogs
  need mount mount
fi
if [ -n "$rootless_user" ] || [ "$is_root" = 0 ]; then
  need newuidmap uidmap
fi
if [ ${#missing[@]} -gt 0 ]; then
  printf 'run.sh: missing: %s\n' "${missing[@]}" >&2
  die "install them with: apt-get install $(printf '%s\n' "${missing[@]}" | cut -d' ' -f1 | sort -u | tr '\n' ' ')"
fi
have_podman=0
command -v podman >/dev/null 2>&1 && have_podman=1
have_crun=0
command -v crun >/dev/null 2>&1 && have_crun=1
if [ "$do_strace" = 1 ] && ! command -v strace >/dev/null 2>&1; then
  do_strace=0
  note "strace not installed (apt-get install strace): no syscall profile"
fi

# ---------------------------------------------------------------------- mode
resolve_mode
kind=$(if [ "$run_uid" -eq 0 ]; then echo root; else echo rootless; fi)

mkdir -p "$bench_dir"
# The lock (shared with pull.sh) is fd 9; long-lived children get it closed
# (9>&-), so that one left behind by a killed run cannot hold it.
exec 9>"$bench_dir/.lock"
flock -n 9 || die "another pull.sh or run.sh run holds $bench_dir/.lock"

# ------------------------------------------------------------------ clean-up
registry_pid=""
mounted=0


# Not root: the stores hold files owned by subordinate ids, which only a user
# namespace with the user's subuid map can delete.

stop_pause() { # rootless podman leaves its pause process (holding the userns)
  local pause=$run/podman-tmp/pause.pid pid
  if [ -s "$pause" ]; then
    pid=$(cat "$pause")
    [[ $pid =~ ^[0-9]+$ ]] && kill "$pid" 2>/dev/null
  fi
  return 0
}

cleanup() {
  local rc=$?
  set +e
  if [ -n "$registry_pid" ]; then
    kill "$registry_pid" 2>/dev/null
    wait "$registry_pid" 2>/dev/null
  fi
  stop_pause
  if [ "$mounted" = 1 ]; then
    unmount_under "$mnt"
    if mountpoint -q "$mnt"; then echo "run.sh: could not unmount $mnt" >&2; fi
  fi
  if [ "$keep" = 1 ]; then
    echo "kept $run (the stores are in $loop_file when it exists: mount -o loop $loop_file $mnt)"
  else
    [ "$mounted" = 1 ] && ! mountpoint -q "$mnt" && rm -f "$loop_file" && rmdir "$mnt" 2>/dev/null
    if ! rm -rf "$run" 2>/dev/null && [ "$run_uid" -ne 0 ] && [ "$is_root" = 0 ]; then
      wipe_as_user "$run" 2>/dev/null
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ----------------------------------------------------------------- the image
say "image: busybox from $busybox_bin ($(dpkg-query -W -f '${Package} ${Version}' busybox-static 2>/dev/null || echo '?')), cache: $image_cache"
image_dir=$(python3 "$here/image.py" build-busybox "$image_cache" "$busybox_bin")
layer_tar=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["layer_tar"])' "$image_dir/image.json")

# --------------------------------------------------------------- run state
# Left-overs of a run that was killed without its clean-up (we hold the lock,
# so no run is going on): its registry, podman's pause process, the mount.
if [ -e "$run" ] || mountpoint -q "$mnt" 2>/dev/null; then
  stale_kill "$run/registry/pid" "$run/registry/config.yml"
  stale_kill "$run/podman-tmp/pause.pid" catatonit
  if [ "$is_root" = 1 ] && mountpoint -q "$mnt"; then
    unmount_under "$mnt"
    note "unmounted $mnt left by an earlier run"
  fi
  rm -rf "$run" 2>/dev/null || [ "$is_root" = 1 ] || wipe_as_user "$run"
fi
mkdir -p "$run" "$results"

# --------------------------------------------------------------- the registry
start_registry
python3 "$here/image.py" push "$image_dir" "http://127.0.0.1:$port" "$repo_name" "$tag"
ref=127.0.0.1:$port/$repo_name:$tag

# ------------------------------------------------------------------ the stores
fs_desc=""
if [ "$is_root" = 1 ]; then
  rm -f "$loop_file"
  mkdir -p "$mnt"
  truncate -s "$store_fs_size" "$loop_file"
  # No lazy init: the background inode-table zeroing would run during the timings.
  if mkfs.ext4 -F -q -O has_journal -E lazy_itable_init=0,lazy_journal_init=0 "$loop_file" &&
     mount -o loop "$loop_file" "$mnt"; then
    mounted=1
    stores=$mnt
    fs_desc="a fresh $store_fs_size ext4 loop file system with a journal ($loop_file on $mnt)"
  else
    rm -f "$loop_file"
    stores=$run/stores
    fs_desc="a plain directory ($stores): the loop file system could not be made"
  fi
else
  stores=$run/stores
  fs_desc="a plain directory ($stores; $(df --output=fstype "$run" | tail -n 1)): not root, so no dedicated loop file system"
fi
say "stores: $fs_desc"

# Layout as pull.sh's: data dirs and the crun bundle on the store file system,
# run-time dirs off it (as a tmpfs /run would be). Rootless podman takes its
# runroot from XDG_RUNTIME_DIR whatever storage.conf says, so berth's rootless
# runroot goes there too.
home=$run/home
xdg_run=$run/xdg-run
b_data=$stores/berth/data
b_conf=$run/berth-config
p_graph=$stores/podman/graph
p_tmp=$run/podman-tmp
big_tmp=$stores/tmp
bundle=$stores/crun/bundle
crun_state=$run/crun-state
if [ "$run_uid" -eq 0 ]; then
  b_run=$run/runroot/berth
  p_run=$run/runroot/podman
else
  b_run=$xdg_run/berth
  p_run=$xdg_run/containers
fi
mkdir -p "$stores/berth" "$stores/podman" "$stores/crun" "$big_tmp" "$b_conf" "$home" "$xdg_run" "$p_tmp" "$crun_state" "$run/containers"
chmod 0700 "$xdg_run"
if [ "$is_root" = 1 ] && [ "$run_uid" -ne 0 ]; then
  chown "$run_uid:$run_gid" "$stores/berth" "$stores/podman" "$stores/crun" "$big_tmp" "$b_conf" "$home" "$xdg_run" "$p_tmp" "$crun_state"
fi

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
# podman's rootful default nofile and nproc limits (1048576, 4194304) are above
# this host's hard limits, which root cannot raise here (no CAP_SYS_RESOURCE,
# DESIGN.md §6): the OCI runtime's setrlimit then fails. Clamp them to the hard
# limits, as berth does. nproc above pid_max was refused too (EPERM from crun's
# setrlimit, not tracked down), so it is capped there as well.
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

# as-bench CMD...: runs CMD as the benchmark user in a clean environment. Every
# timed command goes through it, so its cost (an env and a setpriv exec, about
# a millisecond) is the same for each.
{
  echo '#!/bin/bash'
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

# burst N CMD...: starts N copies of CMD at once, waits for each; fails when
# any fails, and then appends the failures (exit code, first lines of stderr)
# to $BURST_LOG. The single run goes through it too (N = 1), so both pay the
# same.
cat >"$run/burst" <<'EOF'
#!/bin/bash
n=$1
shift
errs=$(mktemp -d)
pids=()
for ((i = 0; i < n; i++)); do
  "$@" </dev/null 2>"$errs/$i" &
  pids+=($!)
done
rc=0
for i in "${!pids[@]}"; do
  c=0
  wait "${pids[$i]}" || c=$?
  if [ "$c" -ne 0 ]; then
    rc=1
    if [ -n "${BURST_LOG:-}" ]; then
      { printf 'exit %s: ' "$c"; head -c 300 "$errs/$i" | tr '\n' ' '; echo; } >>"$BURST_LOG"
    fi
  fi
done
rm -rf "$errs"
exit "$rc"
EOF
chmod 0755 "$run/burst"

if [ "$have_podman" = 1 ] && [ "$is_root" = 1 ] && [ "$run_uid" -ne 0 ] && [ -c /dev/fuse ] &&
   [ "$(stat -c %a /dev/fuse)" != 666 ]; then
  chmod 0666 /dev/fuse
  note "chmod 0666 /dev/fuse (it was root-only; rootless podman may need fuse-overlayfs, DESIGN.md §6)"
fi

# ------------------------------------------------------------ the contenders
# try NAME LOG CMD...: one untimed run as the benchmark user, output kept.
try() {
  local log=$2
  shift 2
  "$run/as-bench" "$@" >"$log" 2>&1 9>&-
}
show_log() { tail -n 12 "$1" | sed 's/^/      /'; }

# Command lines for hyperfine, as strings (hyperfine runs them through sh -c
# and subtracts the shell's own start-up).
q() { local s; s=$(printf '%q ' "$@"); printf '%s' "${s% }"; }

names=()
cmds=()
berth_ok=0
left_out=()
say "pulling $ref with each tool (untimed) and checking a run (as $mode)"
if [ ! -x "$berth" ]; then
  note "berth: no binary at $berth (build it, or pass --berth PATH / BERTH=); left out"
  left_out+=("berth: no binary at $berth")
else
  note "berth: $berth ($("$run/as-bench" "$berth" --version 2>/dev/null | head -n 1 || echo 'version unknown'))"
  if ! try berth "$run/pull-berth.log" "$berth" pull -q "$ref"; then
    note "berth cannot pull $ref; left out. Its output:"
    show_log "$run/pull-berth.log"
    left_out+=("berth: pull failed")
  else
    for net in host none; do
      args=("$berth" run --rm)
      [ "$net" = none ] && args+=(--network none)
      args+=("$ref" true)
      if try berth "$run/run-berth-$net.log" "${args[@]}"; then
        if [ "$net" = host ]; then
          names+=(berth); berth_ok=1
        else
          names+=(berth-net-none)
        fi
        cmds+=("$(q "$run/as-bench" "${args[@]}")")
        note "berth run --rm $(if [ "$net" = none ]; then echo '--network none '; fi)IMAGE true: OK"
      else
        note "berth run (network $net) fails; left out. Its output:"
        show_log "$run/run-berth-$net.log"
        left_out+=("berth --network $net: run failed")
      fi
    done
  fi
fi

podman_extra=""
if [ "$have_podman" = 0 ]; then
  note "podman: not installed (apt-get install podman to compare)"
  left_out+=("podman: not installed")
elif ! try podman "$run/pull-podman.log" podman pull --tls-verify=false -q "$ref"; then
  note "podman cannot pull $ref; left out. Its output:"
  show_log "$run/pull-podman.log"
  left_out+=("podman: pull failed")
else
  p_ver=$("$run/as-bench" podman version --format '{{.Client.Version}}' 2>/dev/null || echo '?')
  p_rt=$("$run/as-bench" podman info --format '{{.Host.OCIRuntime.Path}}' 2>/dev/null || echo '?')
  note "podman $p_ver, OCI runtime $p_rt"
  p_ok=0
  for extra in "" "--cgroups=disabled"; do
    args=(podman run --rm --network none)
    [ -n "$extra" ] && args+=("$extra")
    args+=("$ref" true)
    if try podman "$run/run-podman.log" "${args[@]}"; then
      p_ok=1
      podman_extra=$extra
      names+=(podman-net-none)
      cmds+=("$(q "$run/as-bench" "${args[@]}")")
      note "podman run --rm --network none ${extra:+$extra }IMAGE true: OK"
      break
    fi
    note "podman run --rm --network none ${extra:+$extra }IMAGE true fails:"
    show_log "$run/run-podman.log"
  done
  [ "$p_ok" = 1 ] || { note "podman left out"; left_out+=("podman: run failed (see above)"); }
fi

crun_args=()
if [ "$have_crun" = 0 ]; then
  note "crun: not installed; no crun column"
  left_out+=("crun: not installed")
else
  # The bundle: the image's layer unpacked by the benchmark user (rootless:
  # owned by the user, who is root in crun's user namespace), crun's default
  # spec (--rootless when not root) with args ["true"] and no terminal.
  "$run/as-bench" mkdir -p "$bundle/rootfs"
  "$run/as-bench" tar -xf "$layer_tar" -C "$bundle/rootfs" --no-same-owner 2>/dev/null ||
    "$run/as-bench" tar -xf "$layer_tar" -C "$bundle/rootfs"
  spec_flags=()
  [ "$run_uid" -ne 0 ] && spec_flags=(--rootless)
  (cd "$bundle" && "$run/as-bench" crun spec "${spec_flags[@]}")
  "$run/as-bench" python3 -c '
import json, sys
p = sys.argv[1]
s = json.load(open(p))
s["process"]["args"] = ["true"]
s["process"]["terminal"] = False
json.dump(s, open(p, "w"), indent=1)' "$bundle/config.json"
  crun_ver=$(crun --version 2>/dev/null | head -n 1)
  for extra in "" "--cgroup-manager=disabled"; do
    args=(crun --root "$crun_state")
    [ -n "$extra" ] && args+=("$extra")
    args+=(run --bundle "$bundle" bench-run)
    if try crun "$run/run-crun.log" "${args[@]}"; then
      crun_args=("${args[@]}")
      names+=(crun)
      cmds+=("$(q "$run/as-bench" "${args[@]}")")
      note "$crun_ver: crun ${extra:+$extra }run of the bundle: OK"
      break
    fi
    note "$crun_ver: crun ${extra:+$extra }run --bundle $bundle refuses:"
    show_log "$run/run-crun.log"
  done
  if [ ${#crun_args[@]} -eq 0 ]; then
    note "crun left out (DESIGN.md §6: crun 1.8 will not run on this host's hybrid cgroups)"
    left_out+=("crun: $(tr '\n' ' ' <"$run/run-crun.log" | cut -c1-120)")
  fi
fi
[ ${#names[@]} -gt 0 ] || die "no tool could run the image; nothing to time"

# ----------------------------------------------------------------- timing
cores=$(nproc)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
note "load average before: $load_before ($cores cores)"
if awk -v l="${load_before%% *}" -v c="$cores" 'BEGIN { exit !(l > c / 2) }'; then
  note "warning: the machine is busy; the figures will be slower and noisier than on an idle machine"
fi

single_json=$results/run-$kind.json
burst_json=$results/run-$kind-burst.json
rm -f "$single_json" "$burst_json"
hf=(hyperfine --warmup "$warmup" --runs "$runs" --export-json "$single_json")
for i in "${!names[@]}"; do
  hf+=(--command-name "${names[$i]}" "${cmds[$i]}")
done
say "timing one run: hyperfine --warmup $warmup --runs $runs (${names[*]})"
"${hf[@]}" 9>&-

burst_failed=0
if [ "$berth_ok" = 1 ]; then
  one=$(q "$run/as-bench" "$berth" run --rm "$ref" true)
  export BURST_LOG=$run/burst-failures.log
  : >"$BURST_LOG"
  for _ in 1 2 3; do "$run/burst" "$burst" "$run/as-bench" "$berth" run --rm "$ref" true 9>&- || true; done
  if [ -s "$BURST_LOG" ]; then
    burst_failed=1
    note "berth fails when $burst start at once ($(wc -l <"$BURST_LOG") of $((3 * burst)) in 3 untimed bursts failed):"
    sort "$BURST_LOG" | uniq -c | sort -rn | head -n 5 | sed 's/^/      /'
  fi
  : >"$BURST_LOG"
  # --ignore-failure: a failed run is counted and shown below, not fatal.
  say "timing $burst berth runs at once against one: hyperfine --warmup $warmup --runs $runs --ignore-failure"
  hyperfine --warmup "$warmup" --runs "$runs" --export-json "$burst_json" --ignore-failure \
    --command-name berth-x1 "bash $(q "$run/burst") 1 $one" \
    --command-name "berth-x$burst" "bash $(q "$run/burst") $burst $one" 9>&-
  if [ -s "$BURST_LOG" ]; then
    burst_failed=1
    note "berth runs that FAILED while timing: $(wc -l <"$BURST_LOG") of $(((warmup + runs) * (burst + 1))):"
    sort "$BURST_LOG" | uniq -c | sort -rn | head -n 5 | sed 's/^/      /'
  fi
  # --rm must leave nothing behind, even $burst at once.
  left=$(find "$b_data/containers" "$b_data/names" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
  if [ "$left" -eq 0 ]; then
    note "--rm left no container records in $b_data"
  else
    note "warning: $left container records left in $b_data/containers and names after --rm"
  fi
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
note "load average after: $load_after"

# ----------------------------------------------------------------- profile
if [ "$do_strace" = 1 ] && [ "$berth_ok" = 1 ]; then
  # strace runs as the caller and follows as-bench's switch to the benchmark
  # user; as root, the set-uid newuidmap keeps working under the trace.
  st_wall=$results/run-$kind-wall.strace
  st_sys=$results/run-$kind-sys.strace
  say "profile of one berth run --rm IMAGE true: strace -f -c (results/$(basename "$st_wall"), $(basename "$st_sys"))"
  if strace -f -c -w -S time -o "$st_wall" "$run/as-bench" "$berth" run --rm "$ref" true 9>&- &&
     strace -f -c -S time -o "$st_sys" "$run/as-bench" "$berth" run --rm "$ref" true 9>&-; then
    note "top syscalls by wall-clock time (strace -w; all processes: berth, its helpers and the container):"
    head -n 17 "$st_wall" | sed 's/^/      /'
    note "top syscalls by system (CPU) time:"
    head -n 14 "$st_sys" | sed 's/^/      /'
    note "$(awk '$NF == "total" { printf "%s syscalls (%s failed) in all processes", $(NF-2), $(NF-1) }' "$st_sys")"
    st_exec=$results/run-$kind-exec.strace
    if strace -f -q -e trace=execve -e signal=none -o "$st_exec" "$run/as-bench" "$berth" run --rm "$ref" true 9>&-; then
      note "programs executed (successful execve, in order; as-bench's env and setpriv included):"
      grep -v ' = -1 ' "$st_exec" | grep -o 'execve("[^"]*"' | cut -d'"' -f2 | sed 's/^/      /'
    fi
  else
    note "the run under strace failed; no profile"
  fi
fi

# ----------------------------------------------------------------- summary
say "summary (hyperfine JSON: $single_json, $burst_json)"
timing="hyperfine --warmup $warmup --runs $runs; load average $load_before before, $load_after after ($cores cores)"
[ -n "$podman_extra" ] && timing+="; podman needed $podman_extra"
[ "$burst_failed" = 1 ] && timing+="; SOME BURST RUNS FAILED (see above): the $burst-at-once figure is a lower bound"
python3 "$here/image.py" run-summary "$single_json" "$burst_json" "$burst" "$mode" "$fs_desc" "$timing"
if [ ${#left_out[@]} -gt 0 ]; then
  echo
  printf 'left out: %s\n' "${left_out[@]}"
fi

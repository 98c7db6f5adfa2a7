#!/usr/bin/env bash
# Cold-pull benchmark: berth against podman (when installed), same image, same
# local registry, same file system, same hyperfine run.
#
# Usage: tests/bench/pull.sh [--runs N] [--berth PATH] [--rootless USER] [--zstd]
#                            [--keep] [--clean]
#
#   --runs N         timed runs per tool (default 5), after one warmup run
#   --berth PATH     the berth binary (default $BERTH, else target/release/berth
#                    of this repository)
#   --rootless USER  run both tools as USER (needs root to switch; USER needs
#                    /etc/subuid and /etc/subgid ranges). Default: as root.
#                    When the script itself is not root, the tools run as the
#                    calling user.
#   --zstd           push zstd-compressed layers instead of gzip
#   --keep           keep the whole bench dir (stores, registry data, loop file)
#   --clean          delete the bench dir, image cache included, and exit
#
# Environment: BENCH_DIR (default /var/tmp/berth-bench), BERTH.
#
# What it does:
#  1. builds (once; cached in $BENCH_DIR/image) a 6-layer OCI image of ~400 MiB
#     (tests/bench/image.py: /usr subsets, random blobs, 10,000 tiny files,
#     whiteouts), gzip (or zstd) compressed, with stable digests;
#  2. starts docker-registry on a free 127.0.0.1 port with a temporary storage
#     dir and pushes the image over the registry HTTP API;
#  3. as root, makes a fresh 4 GiB ext4 loop file system (with a journal) and
#     puts both stores on it (DESIGN.md §6); not as root, a plain directory;
#  4. checks that each tool can pull (a tool that cannot is left out), then
#     times a cold pull (store removed and `sync` before each run) with
#     hyperfine --warmup 1 --runs N, both tools in the same run;
#  5. measures the size of each store after one pull (du -sx --block-size=1 of
#     berth's data dir and podman's graphroot) and prints a summary.
# The registry is stopped, the file system unmounted and the run state deleted
# at exit (the image cache and the hyperfine JSON in $BENCH_DIR/results stay).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"
repo_root=$(cd "$here/../.." && pwd)

runs=5
berth=${BERTH:-$repo_root/target/release/berth}
rootless_user=""
compression=gzip
keep=0
clean=0
bench_dir=${BENCH_DIR:-/var/tmp/berth-bench}
store_fs_size=4G
repo_name=bench/big
tag=latest

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

while [ $# -gt 0 ]; do
  case $1 in
    --runs) [ $# -ge 2 ] || die "--runs needs a number"; runs=$2; shift 2 ;;
    --runs=*) runs=${1#*=}; shift ;;
    --berth) [ $# -ge 2 ] || die "--berth needs a path"; berth=$2; shift 2 ;;
    --berth=*) berth=${1#*=}; shift ;;
    --rootless) [ $# -ge 2 ] || die "--rootless needs a user name"; rootless_user=$2; shift 2 ;;
    --rootless=*) rootless_user=${1#*=}; shift ;;
    --zstd) compression=zstd; shift ;;
    --keep) keep=1; shift ;;
    --clean) clean=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "--runs wants a positive number, not '$runs'"
case $berth in /*) ;; *) berth=$PWD/$berth ;; esac
case $bench_dir in /*) ;; *) bench_dir=$PWD/$bench_dir ;; esac

if [ "$clean" = 1 ]; then
  if mountpoint -q "$bench_dir/mnt" 2>/dev/null; then die "$bench_dir/mnt is mounted: is a run going on?"; fi
  rm -rf "$bench_dir"
  say "removed $bench_dir"
  exit 0
fi

# ---------------------------------------------------------------- dependencies
missing=()
need hyperfine hyperfine
need docker-registry docker-registry
need python3 python3
need tar tar
need du coreutils
need flock util-linux
need setpriv util-linux
[ "$compression" = zstd ] && need zstd zstd
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
  printf 'pull.sh: missing: %s\n' "${missing[@]}" >&2
  die "install them with: apt-get install $(printf '%s\n' "${missing[@]}" | cut -d' ' -f1 | sort -u | tr '\n' ' ')"
fi
have_podman=0
command -v podman >/dev/null 2>&1 && have_podman=1

# ---------------------------------------------------------------------- mode
resolve_mode

mkdir -p "$bench_dir"
# The lock is fd 9; long-lived children get it closed (9>&-), so that one left
# behind by a killed run cannot hold it.
exec 9>"$bench_dir/.lock"
flock -n 9 || die "another pull.sh run holds $bench_dir/.lock"

# ------------------------------------------------------------------ clean-up
run=$bench_dir/run
mnt=$bench_dir/mnt
loop_file=$bench_dir/store.ext4
results=$bench_dir/results
registry_pid=""
mounted=0


cleanup() {
  local rc=$?
  set +e
  if [ -n "$registry_pid" ]; then
    kill "$registry_pid" 2>/dev/null
    wait "$registry_pid" 2>/dev/null
  fi
  # rootless podman leaves its pause process (which holds the user namespace)
  # behind; ours has its pid file in our private tmp_dir.
  local pause=$run/podman-tmp/pause.pid
  if [ -s "$pause" ]; then
    local pid
    pid=$(cat "$pause")
    [[ $pid =~ ^[0-9]+$ ]] && kill "$pid" 2>/dev/null
  fi
  if [ "$mounted" = 1 ]; then
    unmount_under "$mnt"
    if mountpoint -q "$mnt"; then echo "pull.sh: could not unmount $mnt" >&2; fi
  fi
  if [ "$keep" = 1 ]; then
    echo "kept $bench_dir (the stores are in $loop_file when it exists: mount -o loop $loop_file $mnt)"
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

# Not root: the stores hold files owned by subordinate ids, which only a user
# namespace with the user's subuid map can delete.

# ----------------------------------------------------------------- the image
say "image: 6 layers, ~400 MiB, $compression (cache: $bench_dir/image)"
image_dir=$(python3 "$here/image.py" build "$bench_dir/image" "$compression")
info=$image_dir/image.json
image_bytes=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["uncompressed"])' "$info")

# --------------------------------------------------------------- run state
# Left-overs of a run that was killed without its clean-up (we hold the lock,
# so no run is going on): its registry, podman's pause process, the mount.
if [ -e "$run" ]; then
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
  if mountpoint -q "$mnt"; then die "$mnt is still mounted: umount it first"; fi
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
  fs_desc="a plain directory ($stores; $(df --output=fstype "$run" | tail -n 1)): not root, so no dedicated loop file system; figures may swing (DESIGN.md §6)"
fi
say "stores: $fs_desc"

# Layout. The data dirs and the temp dir for big downloads are on the store
# file system; the run-time dirs stay off it, as a tmpfs /run would. Rootless
# podman takes its runroot from XDG_RUNTIME_DIR whatever storage.conf says, so
# berth's rootless runroot goes there too.
home=$run/home
xdg_run=$run/xdg-run
b_data=$stores/berth/data
b_conf=$run/berth-config
p_graph=$stores/podman/graph
p_tmp=$run/podman-tmp
big_tmp=$stores/tmp
if [ "$run_uid" -eq 0 ]; then
  b_run=$run/runroot/berth
  p_run=$run/runroot/podman
else
  b_run=$xdg_run/berth
  p_run=$xdg_run/containers
fi
mkdir -p "$stores/berth" "$stores/podman" "$big_tmp" "$b_conf" "$home" "$xdg_run" "$p_tmp" "$run/containers"
chmod 0700 "$xdg_run"
if [ "$is_root" = 1 ] && [ "$run_uid" -ne 0 ]; then
  chown "$run_uid:$run_gid" "$stores/berth" "$stores/podman" "$big_tmp" "$b_conf" "$home" "$xdg_run" "$p_tmp"
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
cat >"$run/containers/containers.conf" <<EOF
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
image_copy_tmp_dir = "$big_tmp"
tmp_dir = "$p_tmp"
EOF

# as-bench CMD...: runs CMD as the benchmark user in a clean environment.
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

# wipe TOOL: empties TOOL's store (untimed, before each run), then syncs so the
# previous run's write-back is not charged to the next one.
# shellcheck disable=SC2016 # the $ and ${} here are for the generated script
{
  echo '#!/bin/bash'
  echo 'set -e'
  printf 'case $1 in berth) dirs=(%q %q) ;; podman) dirs=(%q %q) ;; *) exit 2 ;; esac\n' \
    "$b_data" "$b_run" "$p_graph" "$p_run"
  if [ "$is_root" = 1 ]; then
    # podman may leave mounts under its graphroot
    printf 'for d in "${dirs[@]}"; do awk -v p="$d" '\''$5 == p || index($5, p "/") == 1 { print $5 }'\'' /proc/self/mountinfo | sort -r | xargs -r umount -l; done\n'
    echo 'rm -rf "${dirs[@]}"'
  else
    printf 'rm -rf "${dirs[@]}" 2>/dev/null || %q "${dirs[@]}"\n' "$run/wipe-as-user"
  fi
  printf 'rm -rf %q/* 2>/dev/null || true\n' "$big_tmp"
  echo 'sync'
} >"$run/wipe"
chmod 0755 "$run/wipe"
if [ "$is_root" = 0 ]; then
  {
    echo '#!/bin/bash'
    declare -f wipe_as_user
    printf 'run=%q have_podman=%q\nwipe_as_user "$@"\n' "$run" "$have_podman"
  } >"$run/wipe-as-user"
  chmod 0755 "$run/wipe-as-user"
fi

# ------------------------------------------------------------ the contenders
tools=()
if [ "$have_podman" = 1 ] && [ "$is_root" = 1 ] && [ "$run_uid" -ne 0 ] && [ -c /dev/fuse ] &&
   [ "$(stat -c %a /dev/fuse)" != 666 ]; then
  chmod 0666 /dev/fuse
  note "chmod 0666 /dev/fuse (it was root-only; rootless podman may need fuse-overlayfs, DESIGN.md §6)"
fi

du_of() {
  local out
  if out=$(du -sx --block-size=1 "$1" 2>/dev/null); then echo "${out%%[[:space:]]*}"; return; fi
  if [ "$is_root" = 0 ] && [ "$have_podman" = 1 ] &&
     out=$("$run/as-bench" podman unshare du -sx --block-size=1 "$1" 2>/dev/null); then
    echo "${out%%[[:space:]]*}"; return
  fi
  echo "-"
}
check_pull() { # TOOL STORE CMD...: one untimed pull with its output shown
  local tool=$1 store=$2 log=$run/check-$1.log
  shift 2
  "$run/wipe" "$tool"
  local t0 t1 size
  t0=$(date +%s.%N)
  if ! "$run/as-bench" "$@" >"$log" 2>&1 9>&-; then
    note "$tool cannot pull $ref; left out. Its output (last lines of $log):"
    tail -n 15 "$log" | sed 's/^/      /'
    return 1
  fi
  t1=$(date +%s.%N)
  # A pull that lands somewhere else would make every timed run a no-op.
  size=$(du_of "$store")
  if ! [[ $size =~ ^[0-9]+$ ]] || [ "$size" -lt $((image_bytes / 2)) ]; then
    note "$tool pulled, but its store $store holds ${size} bytes, not the image's $image_bytes:"
    note "it stored the image elsewhere (configuration not honoured?); left out"
    return 1
  fi
  note "$tool: one pull OK ($(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f s", b - a }'), store $((size / 1048576)) MiB)"
}

say "checking that each tool can pull $ref (as $mode)"
if [ ! -x "$berth" ]; then
  note "berth: no binary at $berth (build it, or pass --berth PATH / BERTH=); left out"
elif note "berth: $berth ($("$run/as-bench" "$berth" --version 2>/dev/null | head -n 1 || echo 'version unknown'))" &&
     check_pull berth "$b_data" "$berth" pull -q "$ref"; then
  tools+=(berth)
fi
if [ "$have_podman" = 0 ]; then
  note "podman: not installed (apt-get install podman to compare); only berth's figures"
elif check_pull podman "$p_graph" podman pull --tls-verify=false -q "$ref"; then
  tools+=(podman)
  note "podman $("$run/as-bench" podman info --format \
    '{{.Version.Version}}: storage driver {{.Store.GraphDriverName}}, native overlay diff {{index .Store.GraphStatus "Native Overlay Diff"}}' 2>/dev/null || echo '?')"
fi
[ ${#tools[@]} -gt 0 ] || die "no tool could pull; nothing to time"

# ----------------------------------------------------------------- timing
json=$results/pull-$(if [ "$run_uid" -eq 0 ]; then echo root; else echo rootless; fi)-$compression.json
hf=(hyperfine --warmup 1 --runs "$runs" --export-json "$json")
for t in "${tools[@]}"; do
  hf+=(--prepare "$(printf '%q %q' "$run/wipe" "$t")")
done
for t in "${tools[@]}"; do
  case $t in
    berth) cmd=$(printf '%q ' "$run/as-bench" "$berth" pull -q "$ref") ;;
    podman) cmd=$(printf '%q ' "$run/as-bench" podman pull --tls-verify=false -q "$ref") ;;
  esac
  hf+=(--command-name "$t" "${cmd% }")
done
say "timing a cold pull: hyperfine --warmup 1 --runs $runs (store emptied and synced before each run)"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
cores=$(nproc)
note "load average before: $load_before ($cores cores)"
if awk -v l="${load_before%% *}" -v c="$cores" 'BEGIN { exit !(l > c) }'; then
  note "warning: the machine is busy; the figures will be slower and noisier than on an idle machine"
fi
"${hf[@]}" 9>&-
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
note "load average after: $load_after"

# --------------------------------------------------------------- disk usage
# The last timed run left exactly one pull in each store.
sync
berth_du=-
podman_du=-
say "store sizes after one pull (du -sx --block-size=1)"
for t in "${tools[@]}"; do
  case $t in
    berth) berth_du=$(du_of "$b_data"); note "berth  $b_data: $berth_du bytes" ;;
    podman) podman_du=$(du_of "$p_graph"); note "podman $p_graph: $podman_du bytes" ;;
  esac
done
for t in "${tools[@]}"; do
  case $t in
    berth) "$run/as-bench" "$berth" images 2>&1 | sed 's/^/    berth images: /' || true ;;
    podman) "$run/as-bench" podman images 2>&1 | sed 's/^/    podman images: /' || true ;;
  esac
done

# ----------------------------------------------------------------- summary
say "summary (hyperfine JSON: $json)"
python3 "$here/image.py" summary "$json" "$info" "$mode" "$fs_desc" \
  "$runs runs each; load average $load_before before, $load_after after ($cores cores)" "$berth_du" "$podman_du"

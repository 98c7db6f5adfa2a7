#!/usr/bin/env bash
# Push benchmark: berth against podman (when installed), the same ~400 MiB
# image pulled from one local registry and pushed to another, empty one, in
# the same hyperfine run.
#
# Usage: tests/bench/push.sh [--runs N] [--berth PATH] [--rootless USER]
#                            [--keep] [--clean]
#
#   --runs N         timed runs per tool (default 5), after one warmup run
#   --berth PATH     the berth binary (default $BERTH, else target/release/berth
#                    of this repository)
#   --rootless USER  run both tools as USER (needs root to switch; USER needs
#                    /etc/subuid and /etc/subgid ranges). Default: as root.
#                    When the script itself is not root, the tools run as the
#                    calling user.
#   --keep           keep this script's run state (stores, registry data, loop file)
#   --clean          delete this script's run state and exit
#
# Environment: BENCH_DIR (default /var/tmp/berth-bench, shared with pull.sh;
# the image cache is shared too), BERTH.
#
# What it does:
#  1. builds (once; cached in $BENCH_DIR/image, as pull.sh) the 6-layer ~400 MiB
#     gzip image (tests/bench/image.py), starts a source docker-registry and
#     pushes it there over the HTTP API;
#  2. as root, makes a fresh ext4 loop file system (with a journal) for both
#     stores and the target registry's data (DESIGN.md §6); not as root, a
#     plain directory;
#  3. pulls the image with each tool (untimed), tags it for the target
#     registry, and checks that each tool can push it (a tool that cannot is
#     left out, with its output shown);
#  4. times `push` to the target registry with hyperfine (--warmup 1 --runs N),
#     the target's storage emptied (and synced) before every run, so every
#     layer is compressed and uploaded: the store keeps no compressed blobs,
#     neither berth's nor podman's;
#  5. prints the medians and the verdict against issue 6's target (berth <=
#     0.7 x podman).
# The registries are stopped, the file system unmounted and the run state
# deleted at exit (the image cache and the hyperfine JSON in $BENCH_DIR/results stay).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"
repo_root=$(cd "$here/../.." && pwd)

runs=5
berth=${BERTH:-$repo_root/target/release/berth}
rootless_user=""
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
    --keep) keep=1; shift ;;
    --clean) clean=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "--runs wants a positive number, not '$runs'"
case $berth in /*) ;; *) berth=$PWD/$berth ;; esac
case $bench_dir in /*) ;; *) bench_dir=$PWD/$bench_dir ;; esac

run=$bench_dir/push-run
mnt=$bench_dir/push-mnt
loop_file=$bench_dir/push.ext4
results=$bench_dir/results

if [ "$clean" = 1 ]; then
  if mountpoint -q "$mnt" 2>/dev/null; then die "$mnt is mounted: is a run going on?"; fi
  rm -rf "$run" "$mnt" "$loop_file"
  say "removed $run"
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
  printf 'push.sh: missing: %s\n' "${missing[@]}" >&2
  die "install them with: apt-get install $(printf '%s\n' "${missing[@]}" | cut -d' ' -f1 | sort -u | tr '\n' ' ')"
fi
have_podman=0
command -v podman >/dev/null 2>&1 && have_podman=1

# ---------------------------------------------------------------------- mode
resolve_mode

mkdir -p "$bench_dir"
exec 9>"$bench_dir/.lock"
flock -n 9 || die "another benchmark holds $bench_dir/.lock"

# ------------------------------------------------------------------ clean-up
src_pid=""
dst_pid=""
registry_pid=""
mounted=0
cleanup() {
  local rc=$?
  set +e
  for pid in "$src_pid" "$dst_pid"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  stop_podman_pause
  if [ "$mounted" = 1 ]; then
    unmount_under "$mnt"
    if mountpoint -q "$mnt"; then echo "push.sh: could not unmount $mnt" >&2; fi
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
say "image: 6 layers, ~400 MiB, gzip (cache: $bench_dir/image)"
image_dir=$(python3 "$here/image.py" build "$bench_dir/image" gzip)
info=$image_dir/image.json

if [ -e "$run" ] || mountpoint -q "$mnt" 2>/dev/null; then
  stale_kill "$run/registry/pid" "$run/registry/config.yml"
  stale_kill "$run/podman-tmp/pause.pid" catatonit
  if mountpoint -q "$mnt" 2>/dev/null; then
    stale_kill "$mnt/registry-dst/pid" "$mnt/registry-dst/config.yml"
    unmount_under "$mnt"
    note "unmounted $mnt left by an earlier run"
  fi
  rm -rf "$run" 2>/dev/null || [ "$is_root" = 1 ] || wipe_as_user "$run"
fi
mkdir -p "$run" "$results"

# ------------------------------------------------------------------ the stores
if [ "$is_root" = 1 ]; then
  rm -f "$loop_file"
  mkdir -p "$mnt"
  truncate -s "$store_fs_size" "$loop_file"
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
  fs_desc="a plain directory ($stores): not root, so no dedicated loop file system"
fi
say "stores and the target registry: $fs_desc"

# --------------------------------------------------------------- the registries
start_registry "$run/registry"
src_pid=$registry_pid
python3 "$here/image.py" push "$image_dir" "http://127.0.0.1:$port" "$repo_name" "$tag"
src_ref=127.0.0.1:$port/$repo_name:$tag
src_port=$port
dst_dir=$stores/registry-dst
start_registry "$dst_dir"
dst_pid=$registry_pid
dst_ref=127.0.0.1:$port/$repo_name:$tag

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
mkdir -p "$stores/berth" "$stores/podman" "$big_tmp" "$b_conf" "$home" "$xdg_run" "$p_tmp"
chmod 0700 "$xdg_run"
if [ "$is_root" = 1 ] && [ "$run_uid" -ne 0 ]; then
  chown "$run_uid:$run_gid" "$stores/berth" "$stores/podman" "$big_tmp" "$b_conf" "$home" "$xdg_run" "$p_tmp"
fi
port=$src_port write_podman_confs
write_as_bench

# wipe-dst: empties the target registry's storage and syncs (untimed, before each run).
{
  echo '#!/bin/bash'
  printf 'rm -rf %q/data/docker\nsync\n' "$dst_dir"
} >"$run/wipe-dst"
chmod 0755 "$run/wipe-dst"

# ------------------------------------------------------------ the contenders
tools=()
check() { # TOOL PULL-CMD... -- TAG-CMD... -- PUSH-CMD...
  local tool=$1 log=$run/check-$1.log
  shift
  local -a pull=() tagc=() push=()
  while [ "$1" != -- ]; do pull+=("$1"); shift; done; shift
  while [ "$1" != -- ]; do tagc+=("$1"); shift; done; shift
  push=("$@")
  "$run/wipe-dst"
  local t0 t1
  if ! "$run/as-bench" "${pull[@]}" >"$log" 2>&1 9>&- ||
     ! "$run/as-bench" "${tagc[@]}" >>"$log" 2>&1 9>&-; then
    note "$tool cannot pull or tag $src_ref; left out. Its output (last lines of $log):"
    tail -n 15 "$log" | sed 's/^/      /'
    return 1
  fi
  t0=$(date +%s.%N)
  if ! "$run/as-bench" "${push[@]}" >>"$log" 2>&1 9>&-; then
    note "$tool cannot push $dst_ref; left out. Its output (last lines of $log):"
    tail -n 15 "$log" | sed 's/^/      /'
    return 1
  fi
  t1=$(date +%s.%N)
  note "$tool: one push OK ($(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f s", b - a }'))"
}
say "checking that each tool can push (as $mode)"
if [ ! -x "$berth" ]; then
  note "berth: no binary at $berth (build it, or pass --berth PATH / BERTH=); left out"
elif check berth "$berth" pull -q "$src_ref" -- "$berth" tag "$src_ref" "$dst_ref" -- \
    "$berth" push -q "$dst_ref"; then
  tools+=(berth)
fi
if [ "$have_podman" = 0 ]; then
  note "podman: not installed (apt-get install podman to compare); only berth's figures"
elif check podman podman pull --tls-verify=false -q "$src_ref" -- podman tag "$src_ref" "$dst_ref" -- \
    podman push --tls-verify=false -q "$dst_ref"; then
  tools+=(podman)
  note "podman $("$run/as-bench" podman version --format '{{.Client.Version}}' 2>/dev/null || echo '?')"
fi
[ ${#tools[@]} -gt 0 ] || die "no tool could push; nothing to time"

# ----------------------------------------------------------------- timing
json=$results/push-$(if [ "$run_uid" -eq 0 ]; then echo root; else echo rootless; fi).json
hf=(hyperfine --warmup 1 --runs "$runs" --export-json "$json")
for t in "${tools[@]}"; do
  hf+=(--prepare "$(printf '%q' "$run/wipe-dst")")
done
for t in "${tools[@]}"; do
  case $t in
    berth) cmd=$(printf '%q ' "$run/as-bench" "$berth" push -q "$dst_ref") ;;
    podman) cmd=$(printf '%q ' "$run/as-bench" podman push --tls-verify=false -q "$dst_ref") ;;
  esac
  hf+=(--command-name "$t" "${cmd% }")
done
say "timing a push to an empty registry: hyperfine --warmup 1 --runs $runs"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
note "load average before: $load_before ($(nproc) cores)"
"${hf[@]}" 9>&-
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
note "load average after: $load_after"

# ----------------------------------------------------------------- summary
say "summary ($mode; $fs_desc; hyperfine JSON: $json)"
python3 - "$json" "$info" <<'EOF'
import json, statistics, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
info = json.load(open(sys.argv[2]))
print(f"    image: {info['layers']} layers, {info['uncompressed'] / 2**20:.0f} MiB uncompressed")
for name, r in res.items():
    print(f"    {name:<7} median {statistics.median(r['times']):6.2f} s  "
          f"(mean {r['mean']:.2f} ± {r['stddev'] or 0:.2f} s, min {r['min']:.2f}, max {r['max']:.2f})")
if "berth" in res and "podman" in res:
    ratio = statistics.median(res["berth"]["times"]) / statistics.median(res["podman"]["times"])
    verdict = "meets" if ratio <= 0.7 else "misses"
    print(f"    berth / podman = {ratio:.2f} ({verdict} the target <= 0.70)")
EOF

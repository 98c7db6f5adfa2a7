#!/usr/bin/env bash
# Container lifecycle benchmark (issue 4): `run -d`, `stop -t 0`, `rm`, `exec`,
# `ps` and `ps -a` with 100 containers, and the memory of berth's per-container
# monitor, berth against podman (when installed and able to run containers).
#
# Usage: tests/bench/lifecycle.sh [--runs N] [--containers N] [--berth PATH]
#                                 [--rootless USER] [--keep] [--clean]
#
#   --runs N         timed runs per command (default 20), after 3 warmup runs
#   --containers N   containers in the store for `ps` (default 100): half of
#                    them running `sleep 1000`, the other half exited
#   --berth PATH     the berth binary (default $BERTH, else target/release/berth
#                    of this repository)
#   --rootless USER  run every tool as USER (needs root to switch; USER needs
#                    /etc/subuid and /etc/subgid ranges). Default: as root.
#                    When the script itself is not root, the tools run as the
#                    calling user.
#   --keep           keep this script's run state (stores, registry data, loop
#                    file); the containers are removed all the same
#   --clean          delete this script's part of the bench dir (run state, its
#                    results) and exit
#
# Environment: BENCH_DIR (default /var/tmp/berth-bench, shared with pull.sh and
# run.sh; all hold the same lock), BERTH.
#
# What it does:
#  1. builds (once; cached in $BENCH_DIR/busybox-image, shared with run.sh) a
#     one-layer busybox image from Debian's busybox-static (image.py
#     build-busybox), starts docker-registry on a free 127.0.0.1 port and
#     pushes the image;
#  2. as root, makes a fresh ext4 loop file system (with a journal) for both
#     stores (DESIGN.md §6); not as root, a plain directory;
#  3. pulls the image with each tool (untimed) and checks that each can run a
#     container (a tool that cannot is left out, with its output shown; podman
#     4.3.1 here cannot, its crun refusing the hybrid cgroups, DESIGN.md §6);
#  4. times with hyperfine (--warmup 3 --runs N), each tool side by side, every
#     container with --network none:
#       run -d --name benchrun IMAGE sleep 1000   (--prepare: rm -f benchrun)
#       stop -t 0 benchstop                       (--prepare: a fresh running one)
#       rm benchrm                                (--prepare: a fresh exited one)
#       exec benchexec true                       (one running container; a berth
#                                                  without exec is skipped)
#  5. fills each store with --containers N containers (half `run -d ... sleep
#     1000`, half `run ... true`, so exited) and reads the memory of each
#     running container's monitor (berth: monitor_pid in
#     $BERTH_ROOT/containers/ID/state.json; podman: conmon): VmRSS and RssAnon
#     from /proc/PID/status, Pss from /proc/PID/smaps_rollup;
#  6. times `ps` and `ps -a` in that store, with the as-bench wrapper alone as
#     a baseline (every timed command goes through it);
#  7. prints the medians and the verdicts against issue 4's targets: each
#     lifecycle command <= 0.2 x podman's; ps and ps -a <= 15 ms and <= 0.2 x
#     podman's; monitor <= 2 MiB. When podman cannot run, podman's figures
#     measured earlier on this kind of machine (DESIGN.md §6) are shown for
#     reference, marked as not measured in this run.
# At exit every container is removed (rm -f), and the registry, podman's pause
# process and the loop mount are removed; the run state is deleted unless
# --keep (the image cache and the results in $BENCH_DIR/results stay).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"
repo_root=$(cd "$here/../.." && pwd)

runs=20
n_ctrs=100
berth=${BERTH:-$repo_root/target/release/berth}
rootless_user=""
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
    --containers) [ $# -ge 2 ] || die "--containers needs a number"; n_ctrs=$2; shift 2 ;;
    --containers=*) n_ctrs=${1#*=}; shift ;;
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
[[ $n_ctrs =~ ^[1-9][0-9]*$ ]] || die "--containers wants a positive number, not '$n_ctrs'"
n_running=$(((n_ctrs + 1) / 2))
n_exited=$((n_ctrs - n_running))
case $berth in /*) ;; *) berth=$PWD/$berth ;; esac
case $bench_dir in /*) ;; *) bench_dir=$PWD/$bench_dir ;; esac

run=$bench_dir/lifecycle
mnt=$bench_dir/lifecycle-mnt
loop_file=$bench_dir/lifecycle.ext4
results=$bench_dir/results
image_cache=$bench_dir/busybox-image

if [ "$clean" = 1 ]; then
  if mountpoint -q "$mnt" 2>/dev/null; then die "$mnt is mounted: is a run going on?"; fi
  rm -rf "$run" "$mnt" "$loop_file" "$results"/lifecycle-*
  say "removed lifecycle.sh's state under $bench_dir (the busybox image cache, shared with run.sh, stays)"
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
  printf 'lifecycle.sh: missing: %s\n' "${missing[@]}" >&2
  die "install them with: apt-get install $(printf '%s\n' "${missing[@]}" | cut -d' ' -f1 | sort -u | tr '\n' ' ')"
fi
have_podman=0
command -v podman >/dev/null 2>&1 && have_podman=1

# ---------------------------------------------------------------------- mode
resolve_mode
kind=$(if [ "$run_uid" -eq 0 ]; then echo root; else echo rootless; fi)

mkdir -p "$bench_dir"
# The lock (shared with pull.sh and run.sh) is fd 9; long-lived children get
# it closed (9>&-), so that one left behind by a killed run cannot hold it.
exec 9>"$bench_dir/.lock"
flock -n 9 || die "another pull.sh, run.sh or lifecycle.sh run holds $bench_dir/.lock"

# ------------------------------------------------------------------ clean-up
registry_pid=""
mounted=0
berth_ok=0
podman_ok=0
podman_used=0

# remove_all TOOL: removes every container of TOOL's private store (all of
# them are this script's), then kills, by pid, any monitor or container
# process that outlived its record (berth) or conmon (podman).
remove_all() {
  local tool=$1 ids pids=() pid stat f
  [ -x "$run/as-bench" ] || return 0
  if [ "$tool" = berth ]; then
    [ -x "$berth" ] || return 0
    if [ -d "$b_data/containers" ]; then
      # "PID START" of each monitor and container process on record
      mapfile -t pids < <(python3 - "$b_data/containers" <<'EOF' 2>/dev/null
import json, os, sys
d = sys.argv[1]
for c in os.listdir(d):
    try:
        s = json.load(open(os.path.join(d, c, "state.json")))
    except (OSError, ValueError):
        continue
    for pid, start in (("monitor_pid", "monitor_start"), ("pid", "pid_start")):
        if s.get(pid, 0) > 0:
            print(s[pid], s.get(start, 0))
EOF
)
    fi
    ids=$("$run/as-bench" "$berth" ps -aq --no-trunc 2>/dev/null 9>&-) || true
    # shellcheck disable=SC2086 # one argument per id
    [ -z "$ids" ] || "$run/as-bench" "$berth" rm -f $ids >/dev/null 2>&1 9>&- ||
      note "berth rm -f of the benchmark containers failed"
    for pid in "${pids[@]}"; do
      # still alive (not a zombie: an exited monitor waits for pid 1 to reap
      # it) and the same process (start time: field 22 of /proc/PID/stat)
      stat=$(sed 's/.*) //' "/proc/${pid% *}/stat" 2>/dev/null) || continue
      read -r -a f <<<"$stat"
      if [ "${f[0]}" != Z ] && [ "${f[19]}" = "${pid#* }" ]; then
        kill -9 "${pid% *}" 2>/dev/null && note "killed pid ${pid% *} ($(tr '\0' ' ' <"/proc/${pid% *}/cmdline" 2>/dev/null | cut -c1-60)), left running after berth rm -f"
      fi
    done
  elif [ "$have_podman" = 1 ]; then
    ids=$("$run/as-bench" podman ps -aq 2>/dev/null 9>&-) || true
    # shellcheck disable=SC2086 # one argument per id
    [ -z "$ids" ] || "$run/as-bench" podman rm -f -t 0 $ids >/dev/null 2>&1 9>&- ||
      note "podman rm -f of the benchmark containers failed"
  fi
  return 0
}

cleanup() {
  local rc=$?
  set +e
  [ -x "$run/as-bench" ] && say "removing the benchmark containers"
  remove_all berth
  [ "$podman_used" = 1 ] && remove_all podman
  if [ -n "$registry_pid" ]; then
    kill "$registry_pid" 2>/dev/null
    wait "$registry_pid" 2>/dev/null
  fi
  stop_podman_pause
  if [ "$mounted" = 1 ]; then
    unmount_under "$mnt"
    if mountpoint -q "$mnt"; then echo "lifecycle.sh: could not unmount $mnt" >&2; fi
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

# ------------------------------------------------------------ the run state
# Paths (as run.sh's): data dirs on the store file system, run-time dirs off
# it. Rootless podman takes its runroot from XDG_RUNTIME_DIR whatever
# storage.conf says, so berth's rootless runroot goes there too.
set_paths() {
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
}

# Left-overs of a run that was killed without its clean-up (we hold the lock,
# so no run is going on): its containers (through its own as-bench, while the
# stores are still there), its registry, podman's pause process, the mount.
if [ -e "$run" ] || mountpoint -q "$mnt" 2>/dev/null; then
  if mountpoint -q "$mnt" 2>/dev/null; then stores=$mnt; else stores=$run/stores; fi
  set_paths
  if [ -x "$run/as-bench" ]; then
    remove_all berth
    [ "$have_podman" = 1 ] && remove_all podman
  fi
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
set_paths
mkdir -p "$stores/berth" "$stores/podman" "$big_tmp" "$b_conf" "$home" "$xdg_run" "$p_tmp"
chmod 0700 "$xdg_run"
if [ "$is_root" = 1 ] && [ "$run_uid" -ne 0 ]; then
  chown "$run_uid:$run_gid" "$stores/berth" "$stores/podman" "$big_tmp" "$b_conf" "$home" "$xdg_run" "$p_tmp"
fi
write_podman_confs
write_as_bench

if [ "$have_podman" = 1 ] && [ "$is_root" = 1 ] && [ "$run_uid" -ne 0 ] && [ -c /dev/fuse ] &&
   [ "$(stat -c %a /dev/fuse)" != 666 ]; then
  chmod 0666 /dev/fuse
  note "chmod 0666 /dev/fuse (it was root-only; rootless podman may need fuse-overlayfs, DESIGN.md §6)"
fi

# ------------------------------------------------------------ the contenders
# try LOG CMD...: one untimed run as the benchmark user, output kept.
try() {
  local log=$1
  shift
  "$run/as-bench" "$@" >"$log" 2>&1 9>&-
}
show_log() { tail -n 12 "$1" | sed 's/^/      /'; }
one_line() { tr '\n' ' ' <"$1" | cut -c1-"${2:-160}"; }
# Command lines for hyperfine, as strings (hyperfine runs them through sh -c
# and subtracts the shell's own start-up).
q() { local s; s=$(printf '%q ' "$@"); printf '%s' "${s% }"; }

status_file=$results/lifecycle-$kind-status.tsv
: >"$status_file"
status() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$status_file"; } # OP TOOL TEXT

left_out=()
tools=()
say "pulling $ref with each tool (untimed) and checking a run (as $mode)"
if [ ! -x "$berth" ]; then
  note "berth: no binary at $berth (build it, or pass --berth PATH / BERTH=); left out"
  left_out+=("berth: no binary at $berth")
else
  note "berth: $berth ($("$run/as-bench" "$berth" --version 2>/dev/null | head -n 1 || echo 'version unknown'))"
  if ! try "$run/pull-berth.log" "$berth" pull -q "$ref"; then
    note "berth cannot pull $ref; left out. Its output:"
    show_log "$run/pull-berth.log"
    left_out+=("berth: pull failed")
  elif ! try "$run/run-berth.log" "$berth" run --rm --network none "$ref" true; then
    note "berth run --rm --network none IMAGE true fails; left out. Its output:"
    show_log "$run/run-berth.log"
    left_out+=("berth: run failed")
  else
    berth_ok=1
    tools+=(berth)
    note "berth run --rm --network none IMAGE true: OK"
  fi
fi

podman_extra=()
podman_why=""
if [ "$have_podman" = 0 ]; then
  note "podman: not installed (apt-get install podman to compare)"
  podman_why="not installed"
elif podman_used=1 && ! try "$run/pull-podman.log" podman pull --tls-verify=false -q "$ref"; then
  note "podman cannot pull $ref; left out. Its output:"
  show_log "$run/pull-podman.log"
  podman_why="pull failed: $(one_line "$run/pull-podman.log")"
else
  p_ver=$("$run/as-bench" podman version --format '{{.Client.Version}}' 2>/dev/null || echo '?')
  p_rt=$("$run/as-bench" podman info --format '{{.Host.OCIRuntime.Path}}' 2>/dev/null || echo '?')
  note "podman $p_ver, OCI runtime $p_rt"
  for extra in "" "--cgroups=disabled"; do
    args=(podman run --rm --network none)
    [ -n "$extra" ] && args+=("$extra")
    if try "$run/run-podman.log" "${args[@]}" "$ref" true; then
      podman_ok=1
      [ -n "$extra" ] && podman_extra=("$extra")
      tools+=(podman)
      note "podman run --rm --network none ${extra:+$extra }IMAGE true: OK"
      break
    fi
    note "podman run --rm --network none ${extra:+$extra }IMAGE true fails:"
    show_log "$run/run-podman.log"
  done
  if [ "$podman_ok" = 0 ]; then
    note "podman left out (DESIGN.md §6: its crun will not run on this host's hybrid cgroups)"
    podman_why="run failed: $(one_line "$run/run-podman.log")"
  fi
fi
[ -n "$podman_why" ] && left_out+=("podman: $podman_why")
[ "$berth_ok" = 1 ] || die "berth cannot run the image; nothing to time"

# Per tool: the command prefix (as-bench TOOL), its detached run, its forced
# removal (podman's rm -f waits out the stop timeout unless -t 0).
tool_cmd() { # TOOL ARGS...: the command line as a string
  local t=$1
  shift
  if [ "$t" = berth ]; then q "$run/as-bench" "$berth" "$@"; else q "$run/as-bench" podman "$@"; fi
}
run_args() { # TOOL: the options of every container this script creates
  if [ "$1" = podman ]; then printf '%s\n' --network none "${podman_extra[@]}"; else printf '%s\n' --network none; fi
}
rm_force() { # TOOL NAME: forced removal, quiet, never failing (a --prepare)
  if [ "$1" = berth ]; then
    printf '%s >/dev/null 2>&1 || true' "$(tool_cmd berth rm -f "$2")"
  else
    printf '%s >/dev/null 2>&1 || true' "$(tool_cmd podman rm -f -t 0 "$2")"
  fi
}
bg_run() { # TOOL NAME: a fresh running `sleep 1000` container NAME
  local a
  mapfile -t a < <(run_args "$1")
  printf '%s; %s >/dev/null' "$(rm_force "$1" "$2")" "$(tool_cmd "$1" run -d "${a[@]}" --name "$2" "$ref" sleep 1000)"
}
fg_run() { # TOOL NAME: a fresh exited container NAME (ran `true`)
  local a
  mapfile -t a < <(run_args "$1")
  printf '%s; %s >/dev/null' "$(rm_force "$1" "$2")" "$(tool_cmd "$1" run "${a[@]}" --name "$2" "$ref" true)"
}

# ----------------------------------------------------------------- timing
cores=$(nproc)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
note "load average before: $load_before ($cores cores)"
if awk -v l="${load_before%% *}" -v c="$cores" 'BEGIN { exit !(l > c / 2) }'; then
  note "warning: the machine is busy; the figures will be slower and noisier than on an idle machine"
fi
rm -f "$results"/lifecycle-"$kind"-*.json

# bench OP LABEL: times, in one hyperfine run, the commands set in the arrays
# h_names, h_cmds and (when not empty, one per command) h_prep.
bench() {
  local op=$1 label=$2 json=$results/lifecycle-$kind-$1.json i hf
  hf=(hyperfine --warmup "$warmup" --runs "$runs" --export-json "$json")
  for i in "${!h_names[@]}"; do
    if [ ${#h_prep[@]} -gt 0 ]; then hf+=(--prepare "${h_prep[$i]}"); fi
    hf+=(--command-name "${h_names[$i]}" "${h_cmds[$i]}")
  done
  say "timing $label: hyperfine --warmup $warmup --runs $runs (${h_names[*]})"
  if ! "${hf[@]}" 9>&-; then
    note "hyperfine failed for $label (a command or its --prepare failed; see above)"
    rm -f "$json"
    status "$op" all "hyperfine failed (see the output above)"
  fi
}

# checked OP TOOL PREP CMD...: runs PREP then CMD once, untimed, as hyperfine
# would; true when both work, otherwise notes the failure (status file).
checked() {
  local op=$1 t=$2 prep=$3 log=$run/check-$1-$2.log
  shift 3
  if sh -c "$prep" >/dev/null 2>&1 9>&- && "$run/as-bench" "$@" >"$log" 2>&1 9>&-; then
    return 0
  fi
  note "$t: ${*:2} fails; that row left out. Its output:"
  show_log "$log"
  status "$op" "$t" "failed: $(one_line "$log")"
  return 1
}
tool_bin() { if [ "$1" = berth ]; then echo "$berth"; else echo podman; fi; }

# run -d: each timed run starts benchrun; its --prepare removes the last one.
h_names=(); h_cmds=(); h_prep=()
for t in "${tools[@]}"; do
  mapfile -t a < <(run_args "$t")
  if checked rund "$t" "$(rm_force "$t" benchrun)" "$(tool_bin "$t")" run -d "${a[@]}" --name benchrun "$ref" sleep 1000; then
    h_names+=("$t"); h_prep+=("$(rm_force "$t" benchrun)")
    h_cmds+=("$(tool_cmd "$t" run -d "${a[@]}" --name benchrun "$ref" sleep 1000)")
  fi
done
[ ${#h_names[@]} -gt 0 ] && bench rund "run -d IMAGE sleep 1000"
for t in "${tools[@]}"; do sh -c "$(rm_force "$t" benchrun)"; done

# stop -t 0: each timed run stops a fresh running benchstop.
h_names=(); h_cmds=(); h_prep=()
for t in "${tools[@]}"; do
  if checked stop "$t" "$(bg_run "$t" benchstop)" "$(tool_bin "$t")" stop -t 0 benchstop; then
    h_names+=("$t"); h_prep+=("$(bg_run "$t" benchstop)")
    h_cmds+=("$(tool_cmd "$t" stop -t 0 benchstop)")
  fi
done
[ ${#h_names[@]} -gt 0 ] && bench stop "stop -t 0 (a running sleep)"
for t in "${tools[@]}"; do sh -c "$(rm_force "$t" benchstop)"; done

# rm: each timed run removes a fresh exited benchrm.
h_names=(); h_cmds=(); h_prep=()
for t in "${tools[@]}"; do
  if checked rm "$t" "$(fg_run "$t" benchrm)" "$(tool_bin "$t")" rm benchrm; then
    h_names+=("$t"); h_prep+=("$(fg_run "$t" benchrm)")
    h_cmds+=("$(tool_cmd "$t" rm benchrm)")
  fi
done
[ ${#h_names[@]} -gt 0 ] && bench rm "rm (an exited container)"

# exec: in one running benchexec. berth's exec is being written (issue 4): a
# berth without it ("not implemented", or the placeholder refusing any
# argument) is skipped, not failed.
h_names=(); h_cmds=(); h_prep=()
for t in "${tools[@]}"; do
  log=$run/check-exec-$t.log
  if ! sh -c "$(bg_run "$t" benchexec)" 9>&-; then
    note "$t: could not start benchexec; exec left out"
    status exec "$t" "failed: could not start a container to exec in"
  elif "$run/as-bench" "$(tool_bin "$t")" exec benchexec true >"$log" 2>&1 9>&-; then
    h_names+=("$t"); h_cmds+=("$(tool_cmd "$t" exec benchexec true)")
  elif [ "$t" = berth ] && grep -qiE 'not implemented|unexpected argument' "$log"; then
    note "berth exec is not implemented in this build; skipped ($(one_line "$log" 100))"
    status exec berth "skipped: not implemented in this build"
  else
    note "$t: exec benchexec true fails; that row left out. Its output:"
    show_log "$log"
    status exec "$t" "failed: $(one_line "$log")"
  fi
done
[ ${#h_names[@]} -gt 0 ] && bench exec "exec CTR true (a running sleep)"
for t in "${tools[@]}"; do sh -c "$(rm_force "$t" benchexec)"; done

# ------------------------------------------------ fill the stores, memory
mem_file=$results/lifecycle-$kind-memory.tsv
: >"$mem_file"
for t in "${tools[@]}"; do
  mapfile -t a < <(run_args "$t")
  bin=$(tool_bin "$t")
  say "$t: filling the store: $n_running x run -d ... sleep 1000, $n_exited x run ... true (untimed)"
  fails=0
  start=$(date +%s.%N)
  for ((i = 0; i < n_running; i++)); do
    "$run/as-bench" "$bin" run -d "${a[@]}" --name "bench-up-$i" "$ref" sleep 1000 >/dev/null 2>"$run/fill.err" 9>&- ||
      { fails=$((fails + 1)); cp "$run/fill.err" "$run/fill-last.err"; }
  done
  mid=$(date +%s.%N)
  for ((i = 0; i < n_exited; i++)); do
    "$run/as-bench" "$bin" run "${a[@]}" --name "bench-down-$i" "$ref" true >/dev/null 2>"$run/fill.err" 9>&- ||
      { fails=$((fails + 1)); cp "$run/fill.err" "$run/fill-last.err"; }
  done
  end=$(date +%s.%N)
  note "$(awk -v s="$start" -v m="$mid" -v e="$end" -v r="$n_running" -v x="$n_exited" \
    'BEGIN { printf "%.1f s for the running ones (%.0f ms each), %.1f s for the exited ones (%.0f ms each)", m - s, (m - s) * 1000 / (r ? r : 1), e - m, (e - m) * 1000 / (x ? x : 1) }')"
  if [ "$fails" -gt 0 ]; then
    note "warning: $fails of $n_ctrs failed; the last error: $(one_line "$run/fill-last.err")"
    status ps "$t" "note: $fails of $n_ctrs containers failed to start"
  fi
  n_up=$("$run/as-bench" "$bin" ps -q 2>/dev/null 9>&- | wc -l)
  n_all=$("$run/as-bench" "$bin" ps -aq 2>/dev/null 9>&- | wc -l)
  note "$t ps: $n_up running, ps -a: $n_all in all"
  status ps "$t" "count: $n_up running, $n_all in all"

  # The monitor settles once its container runs (it drops its start-up
  # memory): give the last ones a moment.
  sleep 1
  if [ "$t" = berth ]; then
    ids=$(python3 - "$b_data/containers" <<'EOF'
import json, os, sys
d = sys.argv[1]
for c in sorted(os.listdir(d)):
    try:
        s = json.load(open(os.path.join(d, c, "state.json")))
    except (OSError, ValueError):
        continue
    if s.get("status") == "running" and s.get("monitor_pid"):
        print(c, s["monitor_pid"])
EOF
)
  else
    ids=$("$run/as-bench" podman ps -q --no-trunc 2>/dev/null 9>&- | while read -r id; do
      printf '%s %s\n' "$id" "$("$run/as-bench" podman inspect --format '{{.State.ConmonPid}}' "$id" 9>&-)"
    done)
  fi
  # TOOL ID PID VmRSS RssAnon Pss (kB)
  while read -r id pid; do
    if [ -z "$pid" ] || [ ! -r "/proc/$pid/status" ]; then continue; fi
    vm=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$pid/status")
    an=$(awk '$1 == "RssAnon:" { print $2 }' "/proc/$pid/status")
    ps_=$(awk '$1 == "Pss:" { print $2 }' "/proc/$pid/smaps_rollup" 2>/dev/null)
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$id" "$pid" "${vm:-}" "${an:-}" "${ps_:-}" >>"$mem_file"
  done <<<"$ids"
  note "$t: memory of $(grep -c "^$t"$'\t' "$mem_file" || true) monitor processes read ($mem_file)"
done

# ps and ps -a, with the wrapper alone as a baseline.
h_names=(wrapper); h_cmds=("$(q "$run/as-bench" true)"); h_prep=()
for t in "${tools[@]}"; do
  for a in "" -a; do
    # shellcheck disable=SC2086 # $a: no argument or -a
    if checked "ps$a" "$t" true "$(tool_bin "$t")" ps $a; then
      h_names+=("$t-ps$a"); h_cmds+=("$(tool_cmd "$t" ps $a)")
    fi
  done
done
bench ps "ps and ps -a ($n_running running, $n_exited exited)"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
note "load average after: $load_after"

# ----------------------------------------------------------------- summary
say "summary (hyperfine JSON: $results/lifecycle-$kind-*.json)"
timing="hyperfine --warmup $warmup --runs $runs; every container --network none; load average $load_before before, $load_after after ($cores cores)"
[ ${#podman_extra[@]} -gt 0 ] && timing+="; podman needed ${podman_extra[*]}"
python3 - "$results" "$kind" "$mode" "$fs_desc" "$timing" "$n_running" "$n_exited" "$podman_ok" "$podman_why" <<'EOF'
import json, os, statistics, sys

results, kind, mode, fs, timing, n_up, n_down, podman_ok, podman_why = sys.argv[1:]
podman_ok = podman_ok == "1"
pre = os.path.join(results, f"lifecycle-{kind}-")


def load(op):
    p = pre + op + ".json"
    if not (os.path.exists(p) and os.path.getsize(p)):
        return {}
    with open(p) as f:
        return {r["command"]: r["times"] for r in json.load(f)["results"]}


status = {}
with open(pre + "status.tsv") as f:
    for line in f:
        op, tool, text = line.rstrip("\n").split("\t", 2)
        status.setdefault((op, tool), []).append(text)


def med(t):
    return statistics.median(t) if t else None


def ms(x):
    if x is None:
        return "-"
    return f"{x:.1f} s" if x >= 10 else f"{x * 1000:.1f} ms"


def rng(t):
    return f"{min(t) * 1000:.1f}..{max(t) * 1000:.1f}" if t else ""


def verdict(ok):
    return "ok" if ok else "MISSED"


def why(op, tool):
    """Why OP has no figure for TOOL: 'skipped: ...', 'failed: ...'."""
    for key in ((op, tool), (op.split("-")[0], tool), (op.split("-")[0], "all")):
        for text in status.get(key, []):
            if text.startswith(("skipped", "failed", "hyperfine")):
                return text
    return "not measured"


# Podman 4.3.1 on this kind of machine, measured earlier (DESIGN.md §6;
# rootless, the machine loaded), for reference when podman cannot run here.
ref = {"exec": (0.216, "podman exec"), "ps": (0.150, "podman ps, 50 running"),
       "rm": (10.3, "podman rm -f of a running sleep (stop timeout)"),
       "rund": (0.394, "podman run --rm busybox true (not run -d)")}

print()
print(f"mode     {mode}")
print(f"stores   on {fs}")
print(f"timing   {timing}")
print(f"podman   {'measured in this run' if podman_ok else 'left out: ' + podman_why}")
print()
w = [34, 11, 15, 11, 16, 14]
rows = [("command", "berth", "min..max", "podman", "berth/podman", "target")]
notes = []
ops = [("rund", "run -d IMAGE sleep 1000", "berth", "podman"),
       ("stop", "stop -t 0 CTR", "berth", "podman"),
       ("rm", "rm CTR (exited)", "berth", "podman"),
       ("exec", "exec CTR true", "berth", "podman"),
       ("ps", f"ps ({n_up} running)", "berth-ps", "podman-ps"),
       ("ps-a", f"ps -a ({int(n_up) + int(n_down)} in all)", "berth-ps-a", "podman-ps-a")]
for op, label, bn, pn in ops:
    times = load(op.split("-")[0])
    bt, pt = times.get(bn), times.get(pn)
    b, p = med(bt), med(pt)
    r = b / p if b is not None and p else None
    checks = []
    target = "<= 0.2"
    if r is not None:
        checks.append(r <= 0.2)
    if op.startswith("ps"):
        target = "<= 15 ms, 0.2"
        if b is not None:
            checks.append(b <= 0.015)
    rs = f"{r:.3f}" if r is not None else "-"
    v = verdict(all(checks)) if checks else ""
    bcol = ms(b) if b is not None else why(op, "berth").split(":")[0]
    pcol = ms(p) if p is not None else ("-" if not podman_ok else why(op, "podman").split(":")[0])
    rows.append((label, bcol, rng(bt), pcol, rs, f"{target} {v}".rstrip()))
    if b is None:
        notes.append(f"berth {label}: {why(op, 'berth')}")
    if podman_ok and p is None:
        notes.append(f"podman {label}: {why(op, 'podman')}")
wrapper = med(load("ps").get("wrapper"))
rows.append(("(as-bench wrapper alone)", ms(wrapper), rng(load("ps").get("wrapper")), "", "", ""))
for r in rows:
    print("".join(str(c).ljust(w[i]) for i, c in enumerate(r)).rstrip())
print("every figure includes the as-bench wrapper (env -i, setpriv when rootless);"
      " hyperfine subtracts only the shell's start-up")

# memory
mem = {}
with open(pre + "memory.tsv") as f:
    for line in f:
        tool, _id, _pid, vm, an, pss = line.rstrip("\n").split("\t")
        mem.setdefault(tool, []).append(tuple(int(x) if x else None for x in (vm, an, pss)))
print()
w = [34, 11, 11, 11, 11, 14]
rows = [("per-container monitor (median)", "VmRSS", "RssAnon", "Pss", "max VmRSS", "target")]


def kib(x):
    return f"{x / 1024:.2f} MiB" if x is not None else "-"


for tool, label in (("berth", "berth monitor"), ("podman", "podman conmon")):
    m = mem.get(tool)
    if not m:
        if tool == "berth" or podman_ok:
            rows.append((label, "-", "-", "-", "-", "not read"))
        continue
    col = [[v[i] for v in m if v[i] is not None] for i in range(3)]
    meds = [statistics.median(c) if c else None for c in col]
    mx = max(col[0]) if col[0] else None
    tgt = ""
    if tool == "berth" and meds[0] is not None:
        tgt = "<= 2 MiB " + verdict(meds[0] <= 2048)
    rows.append((f"{label} (n={len(m)})", kib(meds[0]), kib(meds[1]), kib(meds[2]), kib(mx), tgt))
for r in rows:
    print("".join(str(c).ljust(w[i]) for i, c in enumerate(r)).rstrip())
print("target applies to VmRSS; RssAnon is the private part, Pss shares the"
      " binary's pages among the monitors")

for tool in ("berth", "podman"):
    for text in status.get(("ps", tool), []):
        if text.startswith(("count", "note")):
            notes.append(f"{tool} store for ps: {text.split(': ', 1)[1]}")
if notes:
    print()
    for n in notes:
        print(n)

if not podman_ok:
    print()
    print("podman for reference, NOT MEASURED IN THIS RUN: podman 4.3.1 on this kind of")
    print("machine, rootless, the machine loaded (DESIGN.md §6). Other conditions, other")
    print("commands in part: the ratios are indicative only.")
    w = [26, 11, 52, 12]
    rows = [("command", "podman", "what was measured", "berth/that")]
    for op, label, bn in (("rund", "run -d IMAGE sleep 1000", "berth"),
                          ("rm", "rm CTR", "berth"),
                          ("exec", "exec CTR true", "berth"),
                          ("ps", f"ps ({n_up} running)", "berth-ps")):
        pv, what = ref[op]
        b = med(load(op).get(bn))
        same = op == "exec" or (op == "ps" and n_up == "50")
        r = f"{b / pv:.3f}" if b is not None and same else ("(other cmd)" if not same else "-")
        rows.append((label, ms(pv), what, r))
    rows.append(("monitor memory", "2.4 MB", "conmon RSS per rootless container", ""))
    for r in rows:
        print("".join(str(c).ljust(w[i]) for i, c in enumerate(r)).rstrip())
EOF
if [ ${#left_out[@]} -gt 0 ]; then
  echo
  printf 'left out: %s\n' "${left_out[@]}"
fi

#!/usr/bin/env bash
# Published-port throughput (issue 5): pushes SIZE MiB from the host through a
# published port (`-p 127.0.0.1::7000`) into a container that discards it, and
# reports MiB/s, berth against podman when podman is installed (on a hybrid
# cgroup host as root, podman runs without the v2 hierarchy: lib.sh's as-bench).
#
# Usage: tests/bench/network.sh [--size MIB] [--runs N] [--berth PATH]
#                               [--rootless USER]
#
#   --size MIB       data per transfer (default 1024)
#   --runs N         timed transfers (default 5), after 1 warmup
#   --berth PATH     the berth binary (default $BERTH, else target/release/berth)
#   --rootless USER  run the tools as USER (needs root; USER needs subuid
#                    ranges): pasta's published ports. Default: as root, the
#                    berth0 bridge's (nftables DNAT).
#
# Environment: BENCH_DIR (default /var/tmp/berth-bench, shared lock), BERTH.
# The client is bash's /dev/tcp fed by `head -c` from /dev/zero; the server
# is busybox's persistent `nc -ll -p 7000 -e dd of=/dev/null` in the container. Each transfer is
# timed by hyperfine; the figure is SIZE / median.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"
repo_root=$(cd "$here/../.." && pwd)

size=1024
runs=5
berth=${BERTH:-$repo_root/target/release/berth}
rootless_user=""
bench_dir=${BENCH_DIR:-/var/tmp/berth-bench}
while [ $# -gt 0 ]; do
  case $1 in
    --size) size=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --berth) berth=$2; shift 2 ;;
    --rootless) rootless_user=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
done
[[ $size =~ ^[1-9][0-9]*$ ]] || die "--size wants MiB, not '$size'"
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "--runs wants a number, not '$runs'"
case $berth in /*) ;; *) berth=$PWD/$berth ;; esac

missing=()
need hyperfine hyperfine
need docker-registry docker-registry
need python3 python3
need pasta passt
busybox_bin=""
for b in /bin/busybox /usr/bin/busybox; do
  if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then busybox_bin=$b; break; fi
done
[ -n "$busybox_bin" ] || missing+=("busybox-static (for a static /bin/busybox)")
[ ${#missing[@]} -eq 0 ] || die "missing: ${missing[*]}"

is_root=0
[ "$(id -u)" -eq 0 ] && is_root=1
run_uid=$(id -u)
run_gid=$(id -g)
run_user=""
if [ -n "$rootless_user" ]; then
  [ "$is_root" = 1 ] || die "--rootless needs root"
  run_uid=$(id -u "$rootless_user")
  run_gid=$(id -g "$rootless_user")
  run_user=$rootless_user
fi
have_podman=0
command -v podman >/dev/null 2>&1 && have_podman=1

mkdir -p "$bench_dir"
exec 9>"$bench_dir/.lock"
flock -n 9 || die "another benchmark holds $bench_dir/.lock"
run=$bench_dir/network
rm -rf "$run"
mkdir -p "$run"
[ "$run_uid" -eq 0 ] || chown "$run_uid:$run_gid" "$run"
home=$run/home
big_tmp=$run/tmp
b_data=$run/berth/data
b_run=$run/berth/run
b_conf=$run/berth/config
p_graph=$run/podman/graph
p_run=$run/podman/run
p_tmp=$run/podman-tmp
xdg_run=$run/xdg-run
mkdir -p "$home" "$big_tmp" "$b_data" "$b_run" "$b_conf" "$p_graph" "$p_run" "$p_tmp" "$xdg_run"
chmod 0700 "$xdg_run"
[ "$run_uid" -eq 0 ] || chown -R "$run_uid:$run_gid" "$run"

registry_pid=""
cleanup() {
  "$run/as-bench" "$berth" rm -f netbench >/dev/null 2>&1 || true
  [ "$have_podman" = 0 ] || "$run/as-bench" podman rm -f netbench >/dev/null 2>&1 || true
  [ -z "$registry_pid" ] || kill "$registry_pid" 2>/dev/null || true
  stop_podman_pause
}
trap cleanup EXIT

image_dir=$(python3 "$here/image.py" build-busybox "$bench_dir/busybox-image" "$busybox_bin")
start_registry
python3 "$here/image.py" push "$image_dir" "http://127.0.0.1:$port" bench/busybox latest
write_podman_confs
write_as_bench
image=127.0.0.1:$port/bench/busybox:latest

# measure TOOL: starts the discarding server with a random published port,
# times SIZE MiB sent to it, prints MiB/s.
measure() {
  local tool=$1 hostport name
  name=$(basename "$tool")
  "$run/as-bench" "$tool" pull -q "$image" >/dev/null 2>&1 || { note "$name: pull failed"; return 1; }
  "$run/as-bench" "$tool" rm -f netbench >/dev/null 2>&1 || true
  if ! "$run/as-bench" "$tool" run -d --name netbench -p 127.0.0.1::7000 "$image" \
    nc -ll -p 7000 -e dd of=/dev/null bs=1M >/dev/null 2>"$run/$name.err"; then
    note "$name: cannot run a container: $(head -c 300 "$run/$name.err")"
    return 1
  fi
  hostport=$("$run/as-bench" "$tool" port netbench 7000/tcp | head -n1 | sed 's/.*://')
  sleep 0.5
  hyperfine -N --warmup 1 --runs "$runs" --export-json "$run/$name.json" \
    "bash -c 'head -c ${size}M /dev/zero > /dev/tcp/127.0.0.1/$hostport'" >/dev/null
  python3 - "$run/$name.json" "$size" "$name" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f"{sys.argv[3]:8} {float(sys.argv[2]) / r['median']:9.1f} MiB/s   (median {r['median']*1000:.0f} ms for {sys.argv[2]} MiB)")
EOF
  "$run/as-bench" "$tool" rm -f netbench >/dev/null 2>&1 || true
}

say "published-port throughput, $size MiB per transfer, $runs runs, mode: ${run_user:-root}"
measure "$berth" || true
if [ "$have_podman" = 1 ]; then measure podman || note "podman: left out"; fi

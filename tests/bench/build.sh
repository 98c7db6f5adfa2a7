#!/usr/bin/env bash
# Build benchmark: berth against podman (buildah inside it, when installed),
# one multi-stage Dockerfile: a small C program compiled with gcc in a builder
# stage (a debootstrap'd Debian image), copied into a busybox stage.
#
# Usage: tests/bench/build.sh [--runs N] [--berth PATH] [--rootless USER]
#                             [--keep] [--clean]
#
#   --runs N         timed runs per tool and case (default 5), after one warmup
#   --berth PATH     the berth binary (default $BERTH, else target/release/berth
#                    of this repository)
#   --rootless USER  run both tools as USER (needs root to switch; USER needs
#                    /etc/subuid and /etc/subgid ranges). Default: as root.
#   --keep           keep this script's run state (stores, context)
#   --clean          delete this script's run state and exit (not the cache)
#
# Environment: BENCH_DIR (default /var/tmp/berth-bench, shared with the other
# scripts), BERTH, DEBIAN_MIRROR (default http://deb.debian.org/debian).
#
# What it does:
#  1. makes (once, as root; cached in $BENCH_DIR/builder) two root file system
#     tars: a Debian bookworm minbase with gcc and libc6-dev (debootstrap, the
#     only step that needs a mirror), and a busybox one from Debian's
#     busybox-static;
#  2. imports both into each tool's fresh store (`import`, untimed);
#  3. checks that each tool builds the Dockerfile and that the image runs (a
#     tool that cannot is left out, with its output shown);
#  4. times with hyperfine (--warmup 1 --runs N):
#     - cold: `build --no-cache` (every step runs: gcc, the copies, the
#       commits), the base images already in the store, as on a CI runner
#       with a warm image cache;
#     - warm: `build` again with nothing changed (every step from the cache);
#  5. prints the medians and the verdicts against issue 6's targets: cold
#     berth <= podman, warm berth <= 0.2 x podman.
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
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

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

run=$bench_dir/build-run
cache=$bench_dir/builder
results=$bench_dir/results

if [ "$clean" = 1 ]; then
  rm -rf "$run"
  say "removed $run"
  exit 0
fi

# ---------------------------------------------------------------- dependencies
missing=()
need hyperfine hyperfine
need python3 python3
need tar tar
need flock util-linux
need setpriv util-linux
is_root=0
[ "$(id -u)" -eq 0 ] && is_root=1
[ -e "$cache/debian.tar" ] || need debootstrap debootstrap
[ -x /bin/busybox ] || missing+=("busybox-static (for /bin/busybox)")
if [ -n "$rootless_user" ] || [ "$is_root" = 0 ]; then
  need newuidmap uidmap
fi
if [ ${#missing[@]} -gt 0 ]; then
  printf 'build.sh: missing: %s\n' "${missing[@]}" >&2
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
cleanup() {
  local rc=$?
  set +e
  stop_podman_pause
  if [ "$keep" = 1 ]; then
    echo "kept $run"
  elif ! rm -rf "$run" 2>/dev/null && [ "$run_uid" -ne 0 ]; then
    if [ "$is_root" = 1 ]; then
      # rootless stores hold files owned by sub-IDs: remove them from inside
      # the user's namespace, with each tool's own reset.
      "$run/as-bench" "$berth" system prune -af >/dev/null 2>&1
      "$run/as-bench" podman unshare rm -rf "$run/stores" >/dev/null 2>&1
      rm -rf "$run"
    else
      wipe_as_user "$run" 2>/dev/null
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ----------------------------------------------------------------- the bases
mkdir -p "$cache"
if [ ! -e "$cache/debian.tar" ]; then
  [ "$is_root" = 1 ] || die "the builder image is made once with debootstrap, as root: run this script as root first"
  say "builder base: debootstrap --variant=minbase --include=gcc,libc6-dev bookworm (once; $mirror)"
  rm -rf "$cache/root.tmp"
  debootstrap --variant=minbase --include=gcc,libc6-dev bookworm "$cache/root.tmp" "$mirror" \
    >"$cache/debootstrap.log" 2>&1 || { tail -n 20 "$cache/debootstrap.log" >&2; die "debootstrap failed"; }
  rm -rf "$cache/root.tmp/var/cache/apt/archives/"*.deb "$cache/root.tmp/var/lib/apt/lists/"*
  tar -C "$cache/root.tmp" --numeric-owner -cf "$cache/debian.tar.tmp" .
  mv "$cache/debian.tar.tmp" "$cache/debian.tar"
  rm -rf "$cache/root.tmp"
fi
if [ ! -e "$cache/busybox.tar" ] || [ /bin/busybox -nt "$cache/busybox.tar" ]; then
  tmp=$(mktemp -d)
  mkdir -p "$tmp/bin" "$tmp/etc" "$tmp/tmp" "$tmp/usr/local/bin"
  cp /bin/busybox "$tmp/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ -e "$tmp/bin/$applet" ] || ln -s busybox "$tmp/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$tmp/etc/passwd"
  printf 'root:x:0:\n' >"$tmp/etc/group"
  chmod 1777 "$tmp/tmp"
  tar -C "$tmp" --numeric-owner --owner=0 --group=0 -cf "$cache/busybox.tar" .
  rm -rf "$tmp"
fi
note "bases: $(du -h "$cache/debian.tar" | cut -f1) Debian with gcc, $(du -h "$cache/busybox.tar" | cut -f1) busybox"

# ------------------------------------------------------------------ the run dir
if [ -e "$run" ]; then
  stale_kill "$run/podman-tmp/pause.pid" catatonit
  rm -rf "$run" 2>/dev/null || { [ "$is_root" = 1 ] && podman unshare true 2>/dev/null; rm -rf "$run"; } ||
    die "cannot remove $run left by an earlier run"
fi
mkdir -p "$run" "$results"
home=$run/home
xdg_run=$run/xdg-run
stores=$run/stores
b_data=$stores/berth/data
b_conf=$run/berth-config
p_graph=$stores/podman/graph
p_tmp=$run/podman-tmp
big_tmp=$stores/tmp
ctx=$run/context
if [ "$run_uid" -eq 0 ]; then
  b_run=$run/runroot/berth
  p_run=$run/runroot/podman
else
  b_run=$xdg_run/berth
  p_run=$xdg_run/containers
fi
mkdir -p "$stores/berth" "$stores/podman" "$big_tmp" "$b_conf" "$home" "$xdg_run" "$p_tmp" "$ctx"
chmod 0700 "$xdg_run"
chmod 0755 "$run"
if [ "$run_uid" -ne 0 ] && [ "$is_root" = 1 ]; then
  chown "$run_uid:$run_gid" "$stores" "$stores/berth" "$stores/podman" "$big_tmp" "$b_conf" "$home" "$xdg_run" "$p_tmp" "$ctx"
fi
port=0 write_podman_confs
write_as_bench

# The build context: a C program, and a Dockerfile in docker's usual shape.
cat >"$ctx/hello.c" <<'EOF'
#include <stdio.h>
#include <string.h>

static unsigned long fnv1a(const char *s) {
  unsigned long h = 1469598103934665603UL;
  for (; *s; s++) { h ^= (unsigned char)*s; h *= 1099511628211UL; }
  return h;
}

int main(int argc, char **argv) {
  const char *who = argc > 1 ? argv[1] : "berth";
  printf("hello from %s (%016lx)\n", who, fnv1a(who));
  return strlen(who) == 0;
}
EOF
cat >"$ctx/Dockerfile" <<'EOF'
FROM bench/debian-gcc AS builder
WORKDIR /src
COPY hello.c .
RUN gcc -O2 -static -o hello hello.c && strip hello

FROM bench/busybox
COPY --from=builder /src/hello /usr/local/bin/hello
ENTRYPOINT ["/usr/local/bin/hello"]
CMD ["berth"]
EOF
[ "$is_root" = 1 ] && [ "$run_uid" -ne 0 ] && chown -R "$run_uid:$run_gid" "$ctx"

# ------------------------------------------------------------ the contenders
tools=()
check() { # TOOL IMPORT-PREFIX... -- BUILD... -- RUN...
  local tool=$1 log=$run/check-$1.log
  shift
  local -a imp=() build=() runc=()
  while [ "$1" != -- ]; do imp+=("$1"); shift; done; shift
  while [ "$1" != -- ]; do build+=("$1"); shift; done; shift
  runc=("$@")
  if ! "$run/as-bench" "${imp[@]}" "$cache/debian.tar" bench/debian-gcc >"$log" 2>&1 9>&- ||
     ! "$run/as-bench" "${imp[@]}" "$cache/busybox.tar" bench/busybox >>"$log" 2>&1 9>&-; then
    note "$tool cannot import the base images; left out. Its output (last lines of $log):"
    tail -n 15 "$log" | sed 's/^/      /'
    return 1
  fi
  local t0 t1 out
  t0=$(date +%s.%N)
  if ! "$run/as-bench" "${build[@]}" >>"$log" 2>&1 9>&-; then
    note "$tool cannot build; left out. Its output (last lines of $log):"
    tail -n 15 "$log" | sed 's/^/      /'
    return 1
  fi
  t1=$(date +%s.%N)
  if ! out=$("$run/as-bench" "${runc[@]}" 2>>"$log" 9>&-) || [[ $out != "hello from bench "* ]]; then
    note "$tool: the image it built does not run as expected (got '$out'); left out"
    tail -n 15 "$log" | sed 's/^/      /'
    return 1
  fi
  note "$tool: one cold build OK ($(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f s", b - a }')); the image says: $out"
}
say "checking that each tool can build (as $mode)"
if [ ! -x "$berth" ]; then
  note "berth: no binary at $berth (build it, or pass --berth PATH / BERTH=); left out"
elif check berth "$berth" import -- "$berth" build -q -t bench/hello "$ctx" -- \
    "$berth" run --rm --network none bench/hello bench; then
  tools+=(berth)
fi
if [ "$have_podman" = 0 ]; then
  note "podman: not installed (apt-get install podman to compare); only berth's figures"
elif check podman podman import -- podman build -q --layers -t bench/hello "$ctx" -- \
    podman run --rm --network none bench/hello bench; then
  tools+=(podman)
  note "podman $("$run/as-bench" podman version --format '{{.Client.Version}}' 2>/dev/null || echo '?')"
fi
[ ${#tools[@]} -gt 0 ] || die "no tool could build; nothing to time"

# ----------------------------------------------------------------- timing
suffix=$(if [ "$run_uid" -eq 0 ]; then echo root; else echo rootless; fi)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for case in cold warm; do
  json=$results/build-$case-$suffix.json
  hf=(hyperfine --warmup 1 --runs "$runs" --export-json "$json")
  for t in "${tools[@]}"; do
    flags=(-q -t bench/hello)
    [ "$case" = cold ] && flags+=(--no-cache)
    [ "$t" = podman ] && flags+=(--layers)
    tool_cmd=$berth
    [ "$t" = podman ] && tool_cmd=podman
    hf+=(--command-name "$t" "$(printf '%q ' "$run/as-bench" "$tool_cmd" build "${flags[@]}" "$ctx")")
  done
  say "timing a $case build: hyperfine --warmup 1 --runs $runs"
  "${hf[@]}" 9>&-
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
note "load average before: $load_before, after: $load_after ($(nproc) cores)"

# ----------------------------------------------------------------- summary
say "summary ($mode; hyperfine JSON: $results/build-{cold,warm}-$suffix.json)"
python3 - "$results/build-cold-$suffix.json" "$results/build-warm-$suffix.json" <<'EOF'
import json, statistics, sys
for path, case, target in ((sys.argv[1], "cold", 1.0), (sys.argv[2], "warm", 0.2)):
    res = {r["command"]: r for r in json.load(open(path))["results"]}
    for name, r in res.items():
        print(f"    {case} {name:<7} median {statistics.median(r['times']):7.3f} s  "
              f"(mean {r['mean']:.3f} ± {r['stddev'] or 0:.3f} s, min {r['min']:.3f}, max {r['max']:.3f})")
    if "berth" in res and "podman" in res:
        ratio = statistics.median(res["berth"]["times"]) / statistics.median(res["podman"]["times"])
        verdict = "meets" if ratio <= target else "misses"
        print(f"    {case}: berth / podman = {ratio:.2f} ({verdict} the target <= {target:.2f})")
EOF

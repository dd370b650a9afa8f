#!/usr/bin/env bash
# bench/run startup [ROUNDS] [IDLE_SECONDS] [SETTLE_SECONDS]: how long `./javastor up` takes on a built tree until
# every node is Online at the core agent (the command itself waits for that), from a fresh JAVASTOR_HOME each round,
# and how much CPU the io-engines and the control plane burn while the cluster sits idle afterwards (from /proc: user
# + system time over IDLE_SECONDS, default 30, starting SETTLE_SECONDS, default 60, after up: right after a start the
# JIT compilers still run, about half of the first minute's idle CPU). The first round after a build also extracts
# the jars and records each component's class archive when it stops (./javastor jar_args): it is the cold start, unless
# the modules' tests ran on this build, whose archives `up` then uses (it records none of its own for those jars). Prints startup_to_online_s (median of ROUNDS, default 3), io_engine_idle_cpu_pct (the busiest
# io-engine, median) and control_plane_idle_cpu_pct (etcd, core agent, gateway, CSI controller together, median).
# Uses the local cluster's fixed ports: nothing else may run a local cluster meanwhile.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3}
idle=${2:-30}
settle=${3:-60}
source "$root/tools/build-if-stale.sh"
build_if_stale "$root/target/.javastor-build" package -DskipTests
home=$(mktemp -d /tmp/javastor-bench-startup.XXXXXX)
cleanup() { JAVASTOR_HOME="$home" "$root/javastor" destroy >/dev/null 2>&1 || true; rm -rf "$home"; }
trap cleanup EXIT
hz=$(getconf CLK_TCK)
ticks() { # user + system ticks of a pid (fields 14, 15 of /proc/PID/stat, after the command name)
  sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}' || echo 0; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.2f\n", (a[NR/2]+a[NR/2+1])/2}'; }
starts=(); engines=(); controls=()
for r in $(seq 1 "$rounds"); do
  JAVASTOR_HOME="$home" "$root/javastor" destroy >/dev/null 2>&1 || true
  t0=$(date +%s.%N)
  JAVASTOR_HOME="$home" JAVASTOR_SKIP_BUILD=1 JAVASTOR_POOL_MB=${JAVASTOR_POOL_MB:-256} "$root/javastor" up > "$home-up-$r.log" 2>&1 \
    || { echo "round $r: ./javastor up failed:" >&2; tail -20 "$home-up-$r.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  s=$(echo "$t1 - $t0" | bc -l | xargs printf '%.1f')
  starts+=("$s")
  # Idle: every node Online, no volume; measure each process's CPU over the window, once the JIT has settled.
  sleep "$settle" # a measured delay, not a synchronisation
  declare -A before=()
  for f in "$home"/run/*.pid; do p=$(cat "$f"); before[$(basename "$f" .pid)]=$(ticks "$p"); done
  sleep "$idle" # the measured window itself, not a synchronisation
  busiest=0; control=0
  for f in "$home"/run/*.pid; do
    n=$(basename "$f" .pid); p=$(cat "$f")
    pct=$(echo "($(ticks "$p") - ${before[$n]}) * 100 / $hz / $idle" | bc -l)
    echo "# round $r: $n idle cpu $(printf '%.2f' "$pct") % of a core"
    case "$n" in
      node-*) busiest=$(echo "if ($pct > $busiest) $pct else $busiest" | bc -l) ;;
      *) control=$(echo "$control + $pct" | bc -l) ;;
    esac
  done
  unset before
  engines+=("$(printf '%.2f' "$busiest")"); controls+=("$(printf '%.2f' "$control")")
  echo "# round $r: up to every node Online ${s} s; busiest io-engine idle $(printf '%.2f' "$busiest") %, control plane $(printf '%.2f' "$control") %"
  rm -f "$home-up-$r.log"
done
echo "rounds=$rounds"
echo "startup_to_online_s=$(printf '%s\n' "${starts[@]}" | median)"
echo "io_engine_idle_cpu_pct=$(printf '%s\n' "${engines[@]}" | median)"
echo "control_plane_idle_cpu_pct=$(printf '%s\n' "${controls[@]}" | median)"

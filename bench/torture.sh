#!/usr/bin/env bash
# bench/run torture [CYCLES] [SEED]: the crash torture (e2e CrashTortureTest, the same test CI runs with 12 cycles)
# run for CYCLES crash cycles (default 200): real etcd, core agent and three io-engines as processes, a 3-replica
# volume over NVMe/TCP, one random crash per cycle (kill -9 of a replica's io-engine, of the nexus's io-engine, of
# the core agent, or of etcd), heal, and the acknowledged-write checker. Prints the test's key=value lines:
#   torture_cycles=N acknowledged_lost=0 corrupt=0 heal_p50_s=... heal_max_s=...
# Env: TORTURE_KINDS (replica,nexus,agent,etcd), TORTURE_OPS (ops per cycle, 240), TORTURE_HEARTBEAT (the agent's
# heartbeat timeout, 30s; see docs/durability.md), MAVEN_OFFLINE=1 (mvn -o). Exit status: the test's.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cycles=${1:-200}
seed=${2:-$(( $(date +%s) & 0xffffffff ))}
log=$(mktemp /tmp/javastor-bench-torture.XXXXXX.log)
echo "# crash torture: $cycles cycles, seed $seed; full output in $log" >&2
(cd "$root" && mvn -B ${MAVEN_OFFLINE:+-o} verify -pl e2e -am -Dtest=CrashTortureTest -Dsurefire.failIfNoSpecifiedTests=false \
    -Djavastor.torture.cycles="$cycles" -Djavastor.torture.seed="$seed" \
    -Djavastor.torture.kinds="${TORTURE_KINDS:-replica,nexus,agent,etcd}" -Djavastor.torture.ops="${TORTURE_OPS:-240}" \
    -Djavastor.torture.heartbeatTimeout="${TORTURE_HEARTBEAT:-30s}" > "$log" 2>&1)
rc=$?
grep -E '^TORTURE .*(cycle [0-9]+/|seed=)' "$log" | tail -n 5 >&2
grep -E '^(torture_cycles|torture_seed)=' "$log" || echo "torture_cycles=0 acknowledged_lost=? corrupt=? heal_p50_s=? heal_max_s=? (the run did not finish; see $log)"
echo "seed=$seed exit=$rc"
exit $rc

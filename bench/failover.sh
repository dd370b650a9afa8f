#!/usr/bin/env bash
# bench/run failover [N]: the target failover of FailoverVmTest (CSI module) N times (default 3): a 3-replica volume
# staged by the CSI node plugin inside the Linux VM (kernel NVMe/TCP with native multipath, path agent on), fio
# --verify=crc32c writing while the target's io-engine is killed (kill -9), then its node drained, then the target
# frozen (SIGSTOP). Each phase measures the longest gap between two fio completions (the I/O pause of the failover)
# and, for reference in the same run, the 99th percentile of the gaps. Prints:
#   failover_runs=N failover_failed=F failover_io_pause_p50_s=... failover_io_pause_max_s=... (kill -9)
#   failover_gap_p99_p50_s=... failover_drain_io_pause_p50_s/max_s=... failover_sigstop_io_pause_p50_s/max_s=...
#   (FAILOVER_PHASES=kill9,drain,sigstop by default; a subset runs only those)
# The VM runs under software emulation (no nested KVM here): the pause includes the guest's slow CPU; see
# docs/benchmarks.md. Env: MAVEN_OFFLINE=1 (mvn -o). Needs root (the VM harness installs QEMU on first use).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-3}
failed=0
declare -A pause gap
for i in $(seq 1 "$runs"); do
  log=$(mktemp /tmp/javastor-bench-failover.XXXXXX.log)
  echo "# failover run $i/$runs; output in $log" >&2
  (cd "$root" && mvn -B ${MAVEN_OFFLINE:+-o} verify -pl services/csi -am -Dtest=FailoverVmTest -Dsurefire.failIfNoSpecifiedTests=false \
      -Djavastor.vm=true -Djavastor.failover.phases="${FAILOVER_PHASES:-kill9,drain,sigstop}" > "$log" 2>&1)
  rc=$?
  # The test's own output (its key=value lines) is in surefire's report file, not in Maven's log.
  out="$root/services/csi/target/surefire-reports/io.javastor.csi.vm.FailoverVmTest-output.txt"
  [ -f "$out" ] && cat "$out" >> "$log"
  if [ $rc -ne 0 ]; then failed=$((failed + 1)); echo "# run $i failed (exit $rc)" >&2; continue; fi
  for phase in $(echo "${FAILOVER_PHASES:-kill9,drain,sigstop}" | tr ',' ' '); do
    p=$(grep -m1 -oE "^failover_${phase}_io_pause_s=[0-9.]+" "$log" | cut -d= -f2)
    g=$(grep -m1 -oE "^failover_${phase}_gap_p99_s=[0-9.]+" "$log" | cut -d= -f2)
    pause[$phase]="${pause[$phase]:-} $p"; gap[$phase]="${gap[$phase]:-} $g"
    echo "# run $i $phase: pause ${p}s, ordinary gap p99 ${g}s" >&2
  done
done
median() { printf '%s\n' $@ | sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print "?"; else print a[int((NR + 1) / 2)] }'; }
maxof() { printf '%s\n' $@ | sort -n | tail -1; }
echo "failover_runs=$runs"
echo "failover_failed=$failed"
if [ $failed -lt "$runs" ]; then
  # The issue's figures are the kill -9 case; the drain and the freeze follow with their own keys.
  if [ -n "${pause[kill9]:-}" ]; then
    echo "failover_io_pause_p50_s=$(median ${pause[kill9]})"
    echo "failover_io_pause_max_s=$(maxof ${pause[kill9]})"
    echo "failover_gap_p99_p50_s=$(median ${gap[kill9]})"
  fi
  for phase in $(echo "${FAILOVER_PHASES:-kill9,drain,sigstop}" | tr ',' ' ' | sed 's/kill9//'); do
    echo "failover_${phase}_io_pause_p50_s=$(median ${pause[$phase]})"
    echo "failover_${phase}_io_pause_max_s=$(maxof ${pause[$phase]})"
  done
fi
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# Volume snapshots:  bench/run snapshot [DIR] [SIZE_MB] [ROUNDS] [SECONDS] [SNAPSHOTS]
# In process, a nexus over three thick replicas on three pool files of one disk (filled first): QD32 4 KiB random write
# IOPS before any snapshot (the reference), the create time of SNAPSHOTS snapshots taken under that load (pause the
# nexus's writes, snapshot the three replicas, resume), IOPS in the first second after a snapshot (first writes copy
# their clusters) and once every cluster has been copied. Medians; ends with snapshot_create_p99_ms and
# write_iops_after_snapshot_vs_before.
set -euo pipefail
source "$(dirname "$0")/common.sh"
echo "# machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, kernel $(uname -r), $(df -T /var/tmp | awk 'NR==2{print $1" "$2}')"
bench_java io.javastor.bench.SnapshotBench "${1:-/var/tmp/javastor-bench-snapshot}" "${2:-128}" "${3:-3}" "${4:-4}" "${5:-20}" \
  | grep -v -E "^[0-9:.]+ \[[^]]*\] (INFO|DEBUG) "

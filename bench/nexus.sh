#!/usr/bin/env bash
# Nexus overhead and rebuild speed:  bench/run nexus [DIR] [SIZE_MB] [ROUNDS] [SECONDS]
# 4 KiB random writes through a nexus with 1 and with 3 local children (thick replicas on pool files of one disk,
# filled first): QD32 IOPS and QD1 latency, alternating order; then a full rebuild against dd copying the same
# bytes between the same files (O_DIRECT). Medians; ends with three_vs_one_replica_write_iops and rebuild_vs_seqcopy.
set -euo pipefail
source "$(dirname "$0")/common.sh"
echo "# machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, kernel $(uname -r), $(df -T /var/tmp | awk 'NR==2{print $1" "$2}')"
ioengine_java io.javastor.ioengine.nexus.NexusBench "${1:-/var/tmp/javastor-bench-nexus}" "${2:-256}" "${3:-3}" "${4:-4}" | grep -v -E "^[0-9:.]+ \[[^]]*\] (INFO|DEBUG) "

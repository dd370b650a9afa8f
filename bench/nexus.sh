#!/usr/bin/env bash
# Nexus overhead and rebuild speed:  bench/run nexus [--ram-disks|--malloc] [DIR] [SIZE_MB] [ROUNDS] [SECONDS]
# 4 KiB random writes (and QD32 random reads) through a nexus with 1 and with 3 local children (thick replicas on pool files of one disk,
# filled first): QD32 IOPS and QD1 latency, alternating order; then a full rebuild against dd copying the same
# bytes between the same files (O_DIRECT). Medians; ends with three_vs_one_replica_write_iops and rebuild_vs_seqcopy.
# --ram-disks: the four pools on four loop devices over files in /dev/shm (needs root), so the children do not
# share one disk (the layout of real clusters: one replica per node); the nexus's own cost is what remains.
# --malloc: the four pools on RAM disks inside the bench's process (malloc://, as SPDK's malloc bdev): no kernel
# and no device under the children at all; no dd reference then (rebuild_mibps alone).
set -euo pipefail
source "$(dirname "$0")/common.sh"
ram=0
if [ "${1:-}" = "--ram-disks" ]; then ram=1; shift; fi
if [ "${1:-}" = "--malloc" ]; then BENCH_JAVA_OPTS="${BENCH_JAVA_OPTS:-} -Dnexus.bench.malloc=true"; shift; fi
size=${2:-256}
echo "# machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, kernel $(uname -r), $(df -T /var/tmp | awk 'NR==2{print $1" "$2}')"
opts=""
if [ $ram = 1 ]; then
  loops=()
  cleanup() { for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null || true; done; rm -f /dev/shm/javastor-nexus-bench-*.img; }
  trap cleanup EXIT
  for i in 1 2 3 4; do
    f=/dev/shm/javastor-nexus-bench-$i.img
    truncate -s $(( (size + 64) * 1024 * 1024 )) "$f"
    loops+=("$(losetup -f --show "$f")")
  done
  echo "# children on RAM-backed loop devices: ${loops[*]}"
  opts="-Dnexus.bench.devices=$(IFS=,; echo "${loops[*]}")"
fi
BENCH_JAVA_OPTS="${BENCH_JAVA_OPTS:-} $opts" bench_java io.javastor.bench.NexusBench "${1:-/var/tmp/javastor-bench-nexus}" "$size" "${3:-3}" "${4:-4}" \
  | grep -v -E "^[0-9:.]+ \[[^]]*\] (INFO|DEBUG) "

#!/usr/bin/env bash
# NVMe/TCP vs local replica path: 4 KiB random read/write at QD1 and QD32, medians of RUNS runs.
#   bench/run nvmf [RUNS] [SECONDS] [REPLICA_MB]
# Prints key=value lines ending with nvmf_vs_local_qd32_iops=<ratio> and nvmf_added_latency_qd1_us=<us>; then a RAM disk
# (malloc://) through the same target: nvmf_malloc_qd1_read_p50_us and nvmf_malloc_qd32_read_iops (the pure protocol cost).
set -euo pipefail
source "$(dirname "$0")/common.sh"
export BENCH_JAVA_OPTS="-Xmx1g ${BENCH_JAVA_OPTS:-}"
exec_dir=${BENCH_DIR:-/tmp/javastor-bench-nvmf}
bench_java io.javastor.bench.NvmfBench "$exec_dir" "${1:-3}" "${2:-3}" "${3:-512}"

#!/usr/bin/env bash
# 4 KiB random read/write, QD1 and QD32: a replica on a pool file vs fio (io_uring, O_DIRECT) on the same range.
# Options pass through to StorageBench (--size-mb, --seconds, --rounds, --dir, --spin-us).
set -euo pipefail
source "$(dirname "$0")/common.sh"
need_fio
echo "# machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, kernel $(uname -r), $(df -T /var/tmp | awk 'NR==2{print $1" "$2}')"
bench_java io.javastor.bench.StorageBench "$@"

#!/usr/bin/env bash
# NVMe/TCP vs local replica path: 4 KiB random read/write at QD1 and QD32, medians of RUNS runs.
#   bench/run nvmf [RUNS] [SECONDS] [REPLICA_MB]
# Prints key=value lines ending with nvmf_vs_local_qd32_iops=<ratio> and nvmf_added_latency_qd1_us=<us>.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mod=$root/io-engine-jni
cd "$root"
if [ ! -f "$mod/target/classes/io/javastor/ioengine/nvmf/perf/NvmfBench.class" ] || [ -z "$(find "$mod/target/classes/native" -name libjavastor_uring.so 2>/dev/null)" ] || [ ! -f "$mod/target/nvmf-bench.classpath" ] \
   || [ -n "$(find "$mod/src/main" -newer "$mod/target/nvmf-bench.classpath" -print -quit)" ]; then
  # One reactor run: the classpath goal needs the modules built in the same session (the io-engine writes the file last).
  goals=(process-classes dependency:build-classpath -pl io-engine-jni -am -Dmdep.includeScope=runtime -Dmdep.outputFile="$mod/target/nvmf-bench.classpath")
  mvn -B -q -o "${goals[@]}" >&2 || mvn -B -q "${goals[@]}" >&2
fi
lib=$(find "$mod/target/classes/native" -name 'libjavastor_uring.so' | head -1)
dir=${BENCH_DIR:-/tmp/javastor-bench-nvmf}
exec java -Xmx1g ${BENCH_JAVA_OPTS:-} -Djavastor.native.lib="$lib" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Dlogging.level.root=WARN \
  -cp "$mod/target/classes:$(cat "$mod/target/nvmf-bench.classpath")" io.javastor.ioengine.nvmf.perf.NvmfBench "$dir" "${1:-3}" "${2:-3}" "${3:-512}"

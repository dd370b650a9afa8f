# Shared by bench/*.sh: build the benchmark drivers (the bench module) when stale and run one on their classpath.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/tools/build-if-stale.sh"
native_lib="$root/io-engine-jni/target/classes/native/linux-x86_64/libjavastor_uring.so"
bench_java() {
  local cpfile="$root/bench/target/bench.classpath"
  # One reactor run: the classpath goal needs the modules built in the same session.
  build_if_stale "$cpfile" package -DskipTests dependency:build-classpath -pl bench -am -Dmdep.includeScope=runtime \
      -Dmdep.outputFile="$cpfile"
  java -Xmx2g ${BENCH_JAVA_OPTS:-} -Djavastor.native.lib="$native_lib" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
       -Dlogging.level.root=WARN -cp "$root/bench/target/classes:$(cat "$cpfile")" "$@"
}
need_fio() { command -v fio >/dev/null 2>&1 || { echo "# installing fio" >&2; apt-get install -y -q fio >/dev/null || { apt-get update -qq && apt-get install -y -q fio >/dev/null; }; }; }

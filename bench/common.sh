# Shared by bench/*.sh: build the io-engine once and run a Java main on its runtime classpath.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mvn_q() { (cd "$root" && { mvn -B -q -o "$@" 2>/dev/null || mvn -B -q "$@"; }); }
ioengine_java() {
  local cpfile="$root/io-engine-jni/target/runtime.classpath"
  if [ ! -f "$root/io-engine-jni/target/classes/native/linux-x86_64/libjavastor_uring.so" ] || [ ! -f "$cpfile" ] \
     || [ -n "$(find "$root/io-engine-jni/src" "$root/api/src" -newer "$cpfile" -type f 2>/dev/null | head -1)" ]; then
    echo "# building io-engine ..." >&2
    # One reactor run: the classpath goal needs the modules built in the same session (each module writes the file
    # in turn; the io-engine, built last, writes it last).
    mvn_q package -DskipTests dependency:build-classpath -pl io-engine-jni -am -Dmdep.includeScope=runtime -Dmdep.outputFile="$cpfile" >&2
  fi
  java -Xmx2g ${BENCH_JAVA_OPTS:-} -Djavastor.native.lib="$root/io-engine-jni/target/classes/native/linux-x86_64/libjavastor_uring.so" \
       -cp "$root/io-engine-jni/target/classes:$(cat "$cpfile")" "$@"
}
need_fio() { command -v fio >/dev/null 2>&1 || { echo "# installing fio" >&2; apt-get install -y -q fio >/dev/null || { apt-get update -qq && apt-get install -y -q fio >/dev/null; }; }; }

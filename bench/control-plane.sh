#!/usr/bin/env bash
# bench/run control-plane [VOLUMES]: a real etcd, one core agent and three io-engines (file pools),
# then VOLUMES (default 1000) volumes of 3 replicas created one by one and destroyed.
# Prints key=value lines, among them create_p99_ms. Needs /usr/bin/etcd (Debian etcd-server).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
volumes=${1:-1000}
version=$(sed -n 's:^  <version>\(.*\)</version>:\1:p' "$root/pom.xml" | head -1)
agent_jar="$root/services/core-agent/target/core-agent-$version-exec.jar"
engine_jar="$root/io-engine-jni/target/io-engine-$version-exec.jar"
if [ ! -f "$agent_jar" ] || [ ! -f "$engine_jar" ]; then
  (cd "$root" && mvn -B -q -DskipTests package -pl services/core-agent -am) >&2
fi
work=$(mktemp -d /tmp/javastor-bench-control-plane.XXXXXX)
trap 'rm -rf "$work"' EXIT
java -Xmx256m -cp "$agent_jar" -Dloader.main=io.javastor.core.bench.ControlPlaneBench \
  org.springframework.boot.loader.launch.PropertiesLauncher "$agent_jar" "$engine_jar" "$work" "$volumes" "${ETCD:-/usr/bin/etcd}"

#!/usr/bin/env bash
# bench/run control-plane [VOLUMES]: a real etcd, one core agent and three io-engines (file pools),
# then VOLUMES (default 1000) volumes of 3 replicas created and published one by one, then destroyed.
# Prints key=value lines, among them create_p99_ms. Needs /usr/bin/etcd (Debian etcd-server).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
volumes=${1:-1000}
version=$(sed -n 's:^  <version>\(.*\)</version>:\1:p' "$root/pom.xml" | head -1)
agent_jar="$root/services/core-agent/target/core-agent-$version-exec.jar"
engine_jar="$root/io-engine-jni/target/io-engine-$version-exec.jar"
source "$root/bench/common.sh"
build_if_stale "$root/services/core-agent/target/.bench-build" package -DskipTests -pl services/core-agent -am
work=$(mktemp -d /tmp/javastor-bench-control-plane.XXXXXX)
trap 'rm -rf "$work"' EXIT
# mTLS inside, as deployed: the cluster CA and the certificates of the agent, the nodes and the bench (as the gateway).
"$root/tools/cluster-certs" ca "$work/tls"
for c in etcd core-agent rest-gateway node-node-1 node-node-2 node-node-3; do "$root/tools/cluster-certs" issue "$work/tls" "$c"; done
BENCH_JAVA_OPTS="-Xmx256m ${BENCH_JAVA_OPTS:-}" bench_java io.javastor.bench.ControlPlaneBench \
  "$agent_jar" "$engine_jar" "$work" "$volumes" "${ETCD:-/usr/bin/etcd}" "$work/tls"

#!/usr/bin/env bash
# bench/run rest [VOLUMES]: GET /v0/volumes through the REST gateway with VOLUMES (default 1000)
# volumes in the cluster. Starts a real etcd, one core agent, three io-engines (file pools) and the
# gateway on free loopback ports; creates the volumes through the gateway; then measures with wrk.
# Prints rest_list_rps= and rest_list_p99_ms= and the single-volume GET's rest_get_one_rps= and _p99_ms=: medians of
# BENCH_ROUNDS (3) wrk runs of BENCH_DURATION (15s) after a BENCH_WARMUP (45s) run, with the CPU each request cost the
# etcd, agent and gateway processes (_cpu_ms_per_req). Then the single GET's latency at fixed rates, open loop
# (rest_get_one_at_RATE_p50_ms=, _p99_ms=, ...; BENCH_REST_RATES, default "1000 2000" req/s; 2,000 is the goal's).
# Needs /usr/bin/etcd (Debian etcd-server) and wrk (Debian wrk; installed when missing, as root).
# BENCH_AGENT_JAVA_OPTS / BENCH_GATEWAY_JAVA_OPTS add JVM options (a JFR recording, say) to the agent / gateway.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
volumes=${1:-1000}
duration=${BENCH_DURATION:-15s}
warmup=${BENCH_WARMUP:-45s} # with 15 s the three rounds still rose one after the other (list 221, 253, 286 req/s)
rounds=${BENCH_ROUNDS:-3}
connections=${BENCH_CONNECTIONS:-8}
version=$(sed -n 's:^  <version>\(.*\)</version>:\1:p' "$root/pom.xml" | head -1)
agent_jar="$root/services/core-agent/target/core-agent-$version-exec.jar"
engine_jar="$root/io-engine-jni/target/io-engine-$version-exec.jar"
gateway_jar="$root/services/rest-gateway/target/rest-gateway-$version-exec.jar"
command -v wrk >/dev/null 2>&1 || { echo "# installing wrk" >&2; apt-get install -y -q wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -q wrk >/dev/null; }; }
source "$root/bench/common.sh" # bench_java (PacedHttpsLoad), build_if_stale
build_if_stale "$root/services/rest-gateway/target/.bench-build" -DskipTests package -pl services/rest-gateway -am
work=$(mktemp -d /tmp/javastor-bench-rest.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_http() { local url=$1 what=$2; for _ in $(seq 1 600); do curl -sf -m 2 "$url" >/dev/null 2>&1 && return 0; sleep 0.2; done; echo "$what did not come up; logs in $work" >&2; exit 1; }

# mTLS inside, as deployed: the cluster CA and each component's certificate.
tls() { [ -s "$work/tls/$1.crt" ] || "$root/tools/cluster-certs" issue "$work/tls" "$1" "${@:2}"
  echo "--javastor.tls.ca-file=$work/tls/ca.crt --javastor.tls.cert-file=$work/tls/$1.crt --javastor.tls.key-file=$work/tls/$1.key"; }
"$root/tools/cluster-certs" ca "$work/tls"
export CURL_CA_BUNDLE="$work/tls/ca.crt" # the gateway serves HTTPS with a certificate from that CA

etcd_port=$(free_port); peer_port=$(free_port)
metrics_port=$(free_port); "$root/tools/cluster-certs" issue "$work/tls" etcd
"${ETCD:-/usr/bin/etcd}" --name bench --data-dir "$work/etcd" --log-level warn \
  --listen-client-urls "https://127.0.0.1:$etcd_port" --advertise-client-urls "https://127.0.0.1:$etcd_port" \
  --cert-file "$work/tls/etcd.crt" --key-file "$work/tls/etcd.key" --trusted-ca-file "$work/tls/ca.crt" --client-cert-auth \
  --listen-metrics-urls "http://127.0.0.1:$metrics_port" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "bench=http://127.0.0.1:$peer_port" > "$work/etcd.log" 2>&1 & pids+=($!); etcd_pid=$!
wait_http "http://127.0.0.1:$metrics_port/health" etcd

agent_grpc=$(free_port); agent_http=$(free_port)
java -Xmx512m ${BENCH_AGENT_JAVA_OPTS:-} -jar "$agent_jar" --spring.grpc.server.address="127.0.0.1:$agent_grpc" --server.address=127.0.0.1 \
  --server.port="$agent_http" --javastor.core.etcd.endpoints="https://127.0.0.1:$etcd_port" --javastor.core.cluster=bench \
  --spring.datasource.url="jdbc:h2:mem:bench;DB_CLOSE_DELAY=-1" $(tls core-agent) > "$work/agent.log" 2>&1 & pids+=($!); agent_pid=$!
wait_http "http://127.0.0.1:$agent_http/actuator/health/readiness" "core agent"

for n in 1 2 3; do
  g=$(free_port); h=$(free_port); v=$(free_port)
  java -Xmx384m -jar "$engine_jar" --javastor.io-engine.node-name="node-$n" \
    --javastor.io-engine.core-agent-endpoint="127.0.0.1:$agent_grpc" --spring.grpc.server.host=127.0.0.1 \
    --spring.grpc.server.port="$g" --javastor.io-engine.nvmf.port="$v" --server.address=127.0.0.1 --server.port="$h" \
    --javastor.io-engine.disk-policy.allowed-paths="$work/**" $(tls "node-node-$n") \
    > "$work/node-$n.log" 2>&1 & pids+=($!)
  echo "$h" > "$work/node-$n.http"
done

gw_port=$(free_port)
# Authentication on, as deployed: every measured request carries an admin token the gateway verifies.
(umask 077; head -c 48 /dev/urandom | base64 -w0 > "$work/jwt.key")
java -Xmx512m ${BENCH_GATEWAY_JAVA_OPTS:-} -jar "$gateway_jar" --server.port="$gw_port" --javastor.gateway.core-agent.addresses="127.0.0.1:$agent_grpc" \
  --javastor.gateway.auth.jwt-secret-file="$work/jwt.key" $(tls rest-gateway IP:127.0.0.1) > "$work/gateway.log" 2>&1 & pids+=($!); gateway_pid=$!
token=$(java -cp "$gateway_jar" -Dloader.main=io.javastor.gateway.security.TokenIssuer \
  org.springframework.boot.loader.launch.PropertiesLauncher --key-file "$work/jwt.key" --role admin --subject bench)
auth="Authorization: Bearer $token"
for n in 1 2 3; do wait_http "http://127.0.0.1:$(cat "$work/node-$n.http")/actuator/health" "io-engine node-$n"; done
wait_http "https://127.0.0.1:$gw_port/actuator/health" gateway
base="https://127.0.0.1:$gw_port/v0"
for n in 1 2 3; do
  for _ in $(seq 1 100); do
    [ "$(curl -s -H "$auth" "$base/nodes/node-$n" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("state",{}).get("status",""))' 2>/dev/null)" = Online ] && break
    sleep 0.2
  done
  curl -sf -X PUT -H "$auth" -H 'Content-Type: application/json' \
    -d "{\"disks\":[\"uring://$work/node-$n.img?size_mb=2048\"]}" "$base/nodes/node-$n/pools/pool-$n" >/dev/null
done

echo "# creating $volumes volumes (1 replica, 1 MiB, thin) through the gateway ..." >&2
start=$(date +%s.%N)
python3 - "$base" "$volumes" "$token" <<'PY'
import json, os, ssl, sys, uuid, urllib.request, concurrent.futures
base, n, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
tls = ssl.create_default_context(cafile=os.environ["CURL_CA_BUNDLE"])
body = json.dumps({"size": 1 << 20, "replicas": 1, "thin": True, "policy": {"self_heal": True}}).encode()
def create(_):
    req = urllib.request.Request(f"{base}/volumes/{uuid.uuid4()}", data=body, method="PUT", headers={"Content-Type": "application/json", "Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=60, context=tls) as r:
        assert r.status == 200, r.status
with concurrent.futures.ThreadPoolExecutor(8) as ex:
    list(ex.map(create, range(n)))
PY
end=$(date +%s.%N)
listed=$(curl -sf -H "$auth" "$base/volumes" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["entries"]))')
[ "$listed" = "$volumes" ] || { echo "expected $volumes volumes, the gateway lists $listed" >&2; exit 1; }
bytes=$(curl -sf -H "$auth" "$base/volumes" | wc -c)
echo "rest_volumes=$volumes"
echo "rest_create_per_s=$(python3 -c "print(round($volumes/($end-$start),1))")"
echo "rest_list_body_bytes=$bytes"

# CPU time (user + system, clock ticks) of the bench's own processes, by role: on a shared machine the CPU each request
# costs is steadier than requests/s, which moves with what else the host runs.
roles=(etcd agent gateway); role_pids=("$etcd_pid" "$agent_pid" "$gateway_pid")
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
run_wrk() { # URL PREFIX
  curl -sf -H "$auth" "$1" >/dev/null
  wrk -t2 -c"$connections" -d"$warmup" -H "$auth" "$1" >/dev/null   # warm-up: the JIT compiles the path first
  : > "$work/rounds"
  for round in $(seq 1 "$rounds"); do
    local before=() after=()
    for p in "${role_pids[@]}"; do before+=("$(cpu_ticks "$p")"); done
    wrk -t2 -c"$connections" -d"$duration" -H "$auth" --latency "$1" > "$work/wrk.out"
    for p in "${role_pids[@]}"; do after+=("$(cpu_ticks "$p")"); done
    python3 - "$work/wrk.out" "${before[*]}" "${after[*]}" "$(getconf CLK_TCK)" >> "$work/rounds" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
def ms(v):
    n, unit = re.match(r"([\d.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
requests = int(re.search(r"(\d+) requests in", text).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
ticks = [int(a) - int(b) for a, b in zip(sys.argv[3].split(), sys.argv[2].split())]
print(json.dumps({"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
                  "p50": ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1)),
                  "p99": ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1)),
                  "non2xx": int(errors.group(1)) if errors else 0,
                  "cpu": [t * 1000 / int(sys.argv[4]) / max(requests, 1) for t in ticks]}))
PY
  done
  python3 - "$work/rounds" "$2" "${roles[*]}" <<'PY'
import json, statistics, sys
rounds = [json.loads(line) for line in open(sys.argv[1])]
prefix, roles = sys.argv[2], sys.argv[3].split()
median = lambda xs: statistics.median(xs)
print(f"# {prefix} rounds: " + "; ".join(f"{r['rps']:.0f} req/s p50 {r['p50']:.2f} p99 {r['p99']:.2f}" for r in rounds))
print(f"{prefix}_rps={median([r['rps'] for r in rounds]):.2f}")
print(f"{prefix}_p50_ms={median([r['p50'] for r in rounds]):.2f}")
print(f"{prefix}_p99_ms={median([r['p99'] for r in rounds]):.2f}")
print(f"{prefix}_non2xx={sum(r['non2xx'] for r in rounds)}")
for i, role in enumerate(roles):
    print(f"{prefix}_{role}_cpu_ms_per_req={median([r['cpu'][i] for r in rounds]):.3f}")
print(f"{prefix}_cpu_ms_per_req={median([sum(r['cpu']) for r in rounds]):.3f}")
PY
}
echo "# wrk: $connections connections, $warmup warm-up then $rounds rounds of $duration (medians), GET /v0/volumes ($volumes entries)" >&2
run_wrk "$base/volumes" rest_list
one=$(curl -sf -H "$auth" "$base/volumes?max_entries=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"][0]["spec"]["uuid"])')
echo "# wrk: GET /v0/volumes/{id}" >&2
run_wrk "$base/volumes/$one" rest_get_one
# The latency at given rates: wrk's closed loop answers what rate the cluster takes, and its latencies at that rate
# are its connection count over the rate; a latency goal is asked at a given rate. Open loop, each latency from the
# time the schedule meant to send the request (PacedHttpsLoad, a Java client on the same cores: its own CPU is printed).
for rate in ${BENCH_REST_RATES:-1000 2000}; do
  echo "# paced: GET /v0/volumes/{id} at $rate req/s, $rounds rounds of $duration (5 s warm-up each), 16 connections" >&2
  : > "$work/paced"
  for round in $(seq 1 "$rounds"); do
    bench_java io.javastor.bench.PacedHttpsLoad "$base/volumes/$one" "$rate" "${duration%s}" 16 "$work/tls/ca.crt" "Bearer $token" 5 \
      | tee -a "$work/paced" | sed 's/^/# paced round: /' >&2
  done
  python3 - "$work/paced" "$rate" <<'PY'
import statistics, sys
rounds = [dict(kv.split("=") for kv in line.split()) for line in open(sys.argv[1]) if line.strip()]
m = lambda k: statistics.median(float(r[k]) for r in rounds)
for k in ("rps", "p50_ms", "p99_ms", "p999_ms", "max_ms", "client_cpu_ms_per_req"):
    print(f"rest_get_one_at_{sys.argv[2]}_{k}={m(k):.3f}")
print(f"rest_get_one_at_{sys.argv[2]}_errors={sum(int(r['errors']) for r in rounds)}")
PY
done

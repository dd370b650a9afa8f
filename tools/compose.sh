# Sourced by ./javastor: `./javastor compose up|down|status|logs|token|host-secrets`, the docker-compose.yml dev cluster
# on Docker or, where there is none, on podman (docs/containers.md).
#
# Engine: Docker when `docker info` answers (docker compose, or docker-compose 1.29); otherwise podman, daemonless:
# this starts `podman system service` on its own socket and drives it with Debian's docker-compose 1.29 (both
# installed when missing, as root). Podman here runs with runc and explicit ulimits no higher than the host's
# ($COMPOSE_STATE/containers.conf, given to podman through CONTAINERS_CONF: crun refuses hybrid cgroups and the
# machine cannot raise limits). Podman runs health checks from systemd timers; without systemd (containers, CI) a
# small ticker runs `podman healthcheck run` for the project's containers every few seconds instead, so depends_on
# conditions and `ps` work as under Docker.
#
# Images: built when missing or stale, from the repository root. Without a registry (podman here) every base is made
# from Debian packages: a minbase Debian (mmdebstrap, cached in $JAVASTOR_CACHE/debian-bookworm.tar), a JRE on it,
# etcd and PostgreSQL; the Java images take the -exec jars of the host's Maven build (APP_JAR=prebuilt). A Java
# image is rebuilt when its jar, its Dockerfile or its base changed (label io.javastor.inputs).

JAVASTOR_CACHE=${JAVASTOR_CACHE:-$HOME/.cache/javastor}
COMPOSE_PROJECT=${JAVASTOR_COMPOSE_PROJECT:-javastor}
COMPOSE_STATE=${JAVASTOR_COMPOSE_STATE:-$JAVASTOR_CACHE/compose-$COMPOSE_PROJECT}
TAG=${JAVASTOR_TAG:-0.1.0}
COMPOSE_JAVA_IMAGES="io-engine:io-engine-jni core-agent:services/core-agent rest-gateway:services/rest-gateway csi:services/csi"

compose_engine() {
  if [ -n "${JAVASTOR_ENGINE:-}" ]; then echo "$JAVASTOR_ENGINE"; return; fi
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then echo docker; else echo podman; fi
}

compose_install() {
  local engine=$1 missing=() p
  local want="docker-compose"
  [ "$engine" = podman ] && want="podman runc mmdebstrap docker-compose uidmap containernetworking-plugins golang-github-containernetworking-plugin-dnsname iptables"
  for p in $want; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$engine" = docker ] && { docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1; }; then return 0; fi
  [ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}); run as root or install them first"
  say "installing: ${missing[*]}"
  # --no-install-recommends: Debian's docker-compose recommends docker.io, which is not wanted with podman.
  # The dpkg lock timeout: another installer of the machine's (the VM harness's first run) finishes first.
  local lock=(-o DPkg::Lock::Timeout=300)
  DEBIAN_FRONTEND=noninteractive apt-get "${lock[@]}" install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || \
    { apt-get "${lock[@]}" update -qq && DEBIAN_FRONTEND=noninteractive apt-get "${lock[@]}" install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
}

# podman's settings for this cluster: runc, and every container's ulimits at most the host's hard limits.
podman_conf() {
  mkdir -p "$COMPOSE_STATE"
  local nofile nproc
  nofile=$(ulimit -Hn); [ "$nofile" = unlimited ] || [ "$nofile" -gt 65536 ] && nofile=65536
  nproc=$(ulimit -Hu); [ "$nproc" = unlimited ] || [ "$nproc" -gt 4096 ] && nproc=4096
  cat > "$COMPOSE_STATE/containers.conf" <<CONF
# made by ./javastor compose (tools/compose.sh)
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
# podman 4.3's Docker API takes a seccomp profile only as a path on the server, while docker-compose sends the
# profile's content: here the io-engine's profile (the default plus io_uring) is this podman's default instead.
seccomp_profile = "$ROOT/docker/seccomp-io-engine.json"
[engine]
runtime = "runc"
CONF
  export CONTAINERS_CONF="$COMPOSE_STATE/containers.conf"
}

podman_socket() { echo "$COMPOSE_STATE/podman.sock"; }

# The API socket docker-compose talks to: started once, kept until `compose down`.
podman_service_up() {
  local sock; sock=$(podman_socket)
  if [ -f "$COMPOSE_STATE/podman-service.pid" ] && kill -0 "$(cat "$COMPOSE_STATE/podman-service.pid")" 2>/dev/null && [ -S "$sock" ]; then
    return 0
  fi
  rm -f "$sock"
  setsid podman system service --time=0 "unix://$sock" > "$COMPOSE_STATE/podman-service.log" 2>&1 < /dev/null &
  echo $! > "$COMPOSE_STATE/podman-service.pid"
  local i
  for i in $(seq 1 100); do
    curl -sf --unix-socket "$sock" http://d/_ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "podman system service did not answer on $sock (see $COMPOSE_STATE/podman-service.log)"
}

# Health checks without systemd: run them for the project's running containers, every 3 s, until `compose down`.
podman_health_ticker_up() {
  [ -d /run/systemd/system ] && return 0
  if [ -f "$COMPOSE_STATE/health-ticker.pid" ] && kill -0 "$(cat "$COMPOSE_STATE/health-ticker.pid")" 2>/dev/null; then return 0; fi
  setsid bash -c '
    project=$1
    while :; do
      for c in $(podman ps -q --filter "label=com.docker.compose.project=$project" 2>/dev/null); do
        podman healthcheck run "$c" >/dev/null 2>&1 &
      done
      wait; sleep 3
    done' javastor-health-ticker "$COMPOSE_PROJECT" > /dev/null 2>&1 < /dev/null &
  echo $! > "$COMPOSE_STATE/health-ticker.pid"
}

stop_pidfile() {
  local f=$1 pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$f"
}

# The compose client: `docker compose` (Docker's plugin) or docker-compose (against podman's socket on podman).
compose_cmd() {
  local engine; engine=$(compose_engine)
  if [ "$engine" = podman ]; then
    # docker-compose.yml without the io-engines' security_opt (see podman_conf: the same profile is the default).
    mkdir -p "$COMPOSE_STATE"
    # And the IPAM option podman reports for its networks: without it docker-compose takes the existing network for a
    # changed one on the next `up` ("IPAM option driver has changed") and refuses to go on.
    grep -v -e '^  security_opt:$' -e '^    - seccomp:docker/seccomp-io-engine.json$' "$ROOT/docker-compose.yml" \
      | sed '/^    ipam:$/a\      options:\n        driver: host-local' > "$COMPOSE_STATE/docker-compose.yml"
    DOCKER_HOST="unix://$(podman_socket)" docker-compose -p "$COMPOSE_PROJECT" --project-directory "$ROOT" \
        -f "$COMPOSE_STATE/docker-compose.yml" "$@"
  elif docker compose version >/dev/null 2>&1; then
    docker compose -p "$COMPOSE_PROJECT" -f "$ROOT/docker-compose.yml" "$@"
  else
    DOCKER_BUILDKIT=1 COMPOSE_DOCKER_CLI_BUILD=1 docker-compose -p "$COMPOSE_PROJECT" -f "$ROOT/docker-compose.yml" "$@"
  fi
}

image_label() { "$1" image inspect --format '{{ index .Config.Labels "io.javastor.inputs" }}' "$2" 2>/dev/null || true; }
image_id() { "$1" image inspect --format '{{.Id}}' "$2" 2>/dev/null || true; }

# build_image ENGINE IMAGE DOCKERFILE INPUTS BUILD_ARGS...: builds unless the image was built from the same inputs.
# The build context is the repository root, or, with IMAGE_MODULE and IMAGE_JAR set, one made for that jar
# (prebuilt_context) when the image is built.
build_image() {
  local engine=$1 image=$2 dockerfile=$3 inputs=$4; shift 4
  local context=$ROOT
  local key; key=$( { echo "$inputs"; sha256sum "$ROOT/$dockerfile" "$@" 2>/dev/null; printf '%s\n' "$@"; } | sha256sum | cut -c1-32)
  if [ "$(image_label "$engine" "$image")" = "$key" ]; then return 0; fi
  say "building $image ($dockerfile)"
  [ -n "${IMAGE_JAR:-}" ] && context=$(prebuilt_context "$IMAGE_MODULE" "$IMAGE_JAR")
  local t0=$SECONDS args=() a
  for a in "$@"; do args+=(--build-arg "$a"); done
  # podman: apt-get in RUN steps reaches the mirror on the host's network; Docker's image format keeps HEALTHCHECK.
  local net=(); [ "$engine" = podman ] && net=(--network=host --format=docker)
  # The io-engine's build runs it once (its class archive's training run), and its reactor needs io_uring, which the
  # default seccomp profile refuses: its runtime profile, for that build's RUN steps (podman; BuildKit has no such option).
  [ "$engine" = podman ] && [ -n "${IMAGE_SECCOMP:-}" ] && net+=(--security-opt "seccomp=$IMAGE_SECCOMP")
  (cd "$context" && "$engine" build -q "${net[@]}" "${args[@]}" --label "io.javastor.inputs=$key" -f "$ROOT/$dockerfile" -t "$image" .) >/dev/null \
    || die "building $image failed ($engine build -f $dockerfile)"
  [ "$context" = "$ROOT" ] || rm -rf "$context"
  # podman keeps every build step as an untagged image (the build stage's holds the whole context, jars included):
  # without this, each rebuild would leave hundreds of MB behind. (Untagged images only; the next rebuild redoes its
  # package installs, a few seconds.)
  [ "$engine" = podman ] && podman image prune -f >/dev/null 2>&1
  true
  say "built $image in $((SECONDS - t0)) s"
}

# What a jar holds (each entry's name and CRC), not its bytes: a rebuild of the same sources makes the same content
# with new timestamps, which needs no new image. (The jar's bytes where python3 is missing.)
jar_content() {
  python3 - "$1" <<'PYTHON' 2>/dev/null | sha256sum | cut -c1-64 || sha256sum "$1"
import io, sys, zipfile
def walk(z, prefix=""):
    for i in z.infolist():
        if i.filename.endswith(".jar"):  # nested jars: their entries (their own bytes carry timestamps)
            walk(zipfile.ZipFile(io.BytesIO(z.read(i))), prefix + i.filename + "!")
        else:
            print("%s%s %08x" % (prefix, i.filename, i.CRC))
walk(zipfile.ZipFile(sys.argv[1]))
PYTHON
}

# prebuilt_context MODULE JAR: a build context for a Java image with APP_JAR=prebuilt, made under target/ (hard links):
# the one jar its build stage takes and the files its run stage copies, not the repository with every module's jar
# (~400 MB, which the build stage's `COPY . .` would copy and hash for each image). Prints its path.
prebuilt_context() {
  local module=$1 jar=$2 ctx="$ROOT/target/image-context/${1//\//_}" f
  rm -rf "$ctx"
  mkdir -p "$ctx/$module/target" "$ctx/tools" "$ctx/docker"
  ln "$jar" "$ctx/$module/target/" 2>/dev/null || cp "$jar" "$ctx/$module/target/"
  for f in .dockerignore tools/cluster-certs docker/cds-train.sh docker/csi-probe.sh docker/postgres-entrypoint.sh; do cp -p "$ROOT/$f" "$ctx/$f"; done
  echo "$ctx"
}

# One image builder (and one apt-get of ours) at a time: `./javastor test` makes the base images in the background
# while Maven builds, and the compose tests' own `compose socket|images|up` wait for it here instead of racing it.
with_image_lock() {
  mkdir -p "$JAVASTOR_CACHE"
  local fd
  exec {fd}>>"$JAVASTOR_CACHE/images.lock"
  flock "$fd"
  "$@"
  exec {fd}>&-
}

# The images that take no jar of ours: the Debian base, the JRE on it, etcd and PostgreSQL. Sets COMPOSE_JRE (the
# image the Java images build on).
compose_base_images() {
  local engine=$1 jre debian
  if [ "$engine" = podman ] && [ -z "${JAVASTOR_DEBIAN_IMAGE:-}" ]; then
    # No registry: Debian from Debian's packages, imported once (the tar is kept in $JAVASTOR_CACHE).
    debian=localhost/javastor/debian:bookworm
    if [ -z "$(image_id podman "$debian")" ]; then
      mkdir -p "$JAVASTOR_CACHE"
      if [ ! -s "$JAVASTOR_CACHE/debian-bookworm.tar" ]; then
        say "making a Debian bookworm base image with mmdebstrap (about 1.5 min, once)"
        mmdebstrap --variant=minbase --include=ca-certificates \
          --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
          --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
          --dpkgopt='path-exclude=/usr/share/info/*' \
          bookworm "$JAVASTOR_CACHE/debian-bookworm.tar.part.tar" > "$JAVASTOR_CACHE/mmdebstrap.log" 2>&1 \
          || die "mmdebstrap failed (see $JAVASTOR_CACHE/mmdebstrap.log)"
        mv "$JAVASTOR_CACHE/debian-bookworm.tar.part.tar" "$JAVASTOR_CACHE/debian-bookworm.tar"
      fi
      podman import -q "$JAVASTOR_CACHE/debian-bookworm.tar" "$debian" >/dev/null || die "podman import of the Debian base failed"
    fi
  else
    debian=${JAVASTOR_DEBIAN_IMAGE:-debian:bookworm-slim}
  fi
  if [ "$engine" = podman ] && [ -z "${JAVASTOR_JRE_IMAGE:-}" ]; then
    jre=localhost/javastor/jre:17
    build_image podman "$jre" docker/jre.Dockerfile "$(image_id podman "$debian")" "DEBIAN_IMAGE=$debian"
  else
    jre=${JAVASTOR_JRE_IMAGE:-eclipse-temurin:17-jre-noble}
  fi
  local dbase; dbase=$(image_id "$engine" "$debian")
  build_image "$engine" "javastor/etcd:$TAG" docker/etcd.Dockerfile "$dbase" "DEBIAN_IMAGE=$debian"
  build_image "$engine" "javastor/postgres:$TAG" docker/postgres.Dockerfile "$dbase $(sha256sum "$ROOT/docker/postgres-entrypoint.sh")" "DEBIAN_IMAGE=$debian"
  COMPOSE_JRE=$jre
}

# Every image docker-compose.yml runs, built when missing or stale; with names (io-engine core-agent rest-gateway csi),
# the base images and those Java images only.
compose_images() {
  local engine=$1; shift
  local only=" $* "
  compose_base_images "$engine"
  local jre=$COMPOSE_JRE
  # The jars: the host's Maven build (skipped when nothing changed since the last one).
  if [ "${JAVASTOR_SKIP_BUILD:-}" != 1 ]; then
    build_if_stale "$ROOT/target/.javastor-build" package -DskipTests
  fi
  local entry name module jar jbase; jbase=$(image_id "$engine" "$jre")
  # what every Java image's build reads beside its jar: the context's filter and the class-data training script
  local shared_inputs; shared_inputs=$(sha256sum "$ROOT/.dockerignore" "$ROOT/docker/cds-train.sh")
  for entry in $COMPOSE_JAVA_IMAGES; do
    name=${entry%%:*}; module=${entry#*:}
    if [ $# -gt 0 ] && [[ $only != *" $name "* ]]; then continue; fi
    jar=$(jar_of "$module"); [ -n "$jar" ] || die "$module is not built (no -exec jar in $module/target)"
    local extra="" seccomp=""; [ "$name" = csi ] && extra=$(sha256sum "$ROOT/docker/csi-probe.sh")
    [ "$name" = io-engine ] && seccomp=$ROOT/docker/seccomp-io-engine.json
    IMAGE_MODULE=$module IMAGE_JAR=$jar IMAGE_SECCOMP=$seccomp \
      build_image "$engine" "javastor/$name:$TAG" "docker/$name.Dockerfile" "$jbase $(jar_content "$jar") $shared_inputs $extra" "JRE_IMAGE=$jre" "MAVEN_IMAGE=$jre" APP_JAR=prebuilt
  done
}

# What `ps` says: every service's state and health; non-zero until all are up and healthy and the one-shots are done.
compose_ready() {
  local engine=$1 out
  out=$("$engine" ps -a --filter "label=com.docker.compose.project=$COMPOSE_PROJECT" \
          --format '{{ index .Labels "com.docker.compose.service" }} {{.Status}}' 2>/dev/null) || return 1
  [ -n "$out" ] || return 1
  local want=(cluster-tls-init etcd postgres core-agent rest-auth-init rest-gateway csi-controller io-engine-1 io-engine-2 io-engine-3 pool-init) s line
  for s in "${want[@]}"; do
    line=$(grep "^$s " <<<"$out" | head -1)
    case "$s" in
      *-init) [[ $line == *"Exited (0)"* ]] || return 1 ;;
      *) [[ $line == *"(healthy)"* ]] || return 1 ;;
    esac
  done
}

compose_status() {
  local engine; engine=$(compose_engine)
  "$engine" ps -a --filter "label=com.docker.compose.project=$COMPOSE_PROJECT" \
      --format '{{ index .Labels "com.docker.compose.service" }}  {{.Status}}  {{.Ports}}' 2>/dev/null | sort
}

compose_up() {
  local engine t0=$SECONDS; engine=$(compose_engine)
  with_image_lock compose_install "$engine"
  [ "$engine" = podman ] && { podman_conf; podman_service_up; }
  with_image_lock compose_images "$engine"
  local t1=$SECONDS
  [ "$engine" = podman ] && podman_health_ticker_up
  say "starting the compose cluster (project $COMPOSE_PROJECT, $engine)"
  compose_cmd up -d --no-build || die "compose up failed; see ./javastor compose status and ./javastor compose logs SERVICE"
  local deadline=$((SECONDS + ${JAVASTOR_COMPOSE_WAIT_S:-300}))
  until compose_ready "$engine"; do
    [ $SECONDS -lt $deadline ] || { compose_status; die "the compose cluster is not healthy after ${JAVASTOR_COMPOSE_WAIT_S:-300} s"; }
    sleep 2
  done
  compose_status
  cat <<MSG

Compose cluster is up ($engine, project $COMPOSE_PROJECT): images ready $((t1 - t0)) s, services healthy $((SECONDS - t1)) s later.
  REST API    https://127.0.0.1:8081/v0 (Swagger UI /swagger-ui/index.html); pools pool-1..3 created by pool-init
  token, CA   TOKEN=\$(./javastor compose token)    ./javastor compose ca > javastor-ca.crt
              curl --cacert javastor-ca.crt -H "Authorization: Bearer \$TOKEN" https://127.0.0.1:8081/v0/pools
  NVMe-oF     node-1..3 on 127.0.0.1:8420..8422 (volume targets name 127.0.0.1); a host connects with
              nvme connect -t tcp -a 127.0.0.1 -s PORT -n NQN \$(./javastor compose host-secrets VOLUME HOST)
  logs        ./javastor compose logs SERVICE     status: ./javastor compose status
  stop        ./javastor compose down (keeps the volumes)     ./javastor compose down -v (deletes them)
MSG
}

compose_down() {
  local engine; engine=$(compose_engine)
  if [ "$engine" = podman ]; then
    podman_conf
    if [ -n "$(podman ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT" 2>/dev/null)" ] || [ "${1:-}" = -v ]; then
      podman_service_up
      compose_cmd down --remove-orphans -t 20 "$@" || true
      # Whatever compose left (a container of a failed start), by the project's label.
      podman ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT" | xargs -r podman rm -f -t 5 >/dev/null 2>&1 || true
      if [ "${1:-}" = -v ]; then
        podman volume ls -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT" | xargs -r podman volume rm -f >/dev/null 2>&1 || true
      fi
      podman network rm -f "${COMPOSE_PROJECT}_javastor" >/dev/null 2>&1 || true
    fi
    stop_pidfile "$COMPOSE_STATE/health-ticker.pid"
    stop_pidfile "$COMPOSE_STATE/podman-service.pid"
    rm -f "$(podman_socket)"
  else
    compose_cmd down --remove-orphans "$@"
  fi
  say "compose cluster $COMPOSE_PROJECT stopped${1:+ (volumes deleted)}"
}

# A file from the cluster's volumes, read through a service's container.
compose_cat() {
  local engine; engine=$(compose_engine)
  local c; c=$("$engine" ps -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT" --filter "label=com.docker.compose.service=$1" | head -1)
  [ -n "$c" ] || die "service $1 is not running (./javastor compose up)"
  "$engine" exec "$c" cat "$2"
}

# A host's nvme connect options for a volume published to it: asked of the core agent as a CSI node plugin would,
# with a csi-node certificate issued from the cluster CA (inside the core agent's image, on the cluster-tls volume).
compose_host_secrets() {
  local volume=${1:-} node=${2:-} engine
  [ -n "$volume" ] && [ -n "$node" ] || die "usage: ./javastor compose host-secrets VOLUME NODE (NODE: the publish's frontend_node)"
  engine=$(compose_engine)
  local quiet=(-e JAVA_TOOL_OPTIONS=); [ "$engine" = podman ] && quiet+=(--health-cmd none)
  "$engine" run --rm "${quiet[@]}" --user 0:0 -v "${COMPOSE_PROJECT}_cluster-tls:/tls" --entrypoint bash "javastor/core-agent:$TAG" -ec \
      '[ -s /tls/csi-node.crt ] || /opt/javastor/cluster-certs issue /tls csi-node >/dev/null; chown 10001:10001 /tls/csi-node.*' \
      || die "could not issue the csi-node certificate from the cluster CA"
  # On the host's network, to the core agent's published port: an address on the cluster's network could be one an
  # io-engine needs when it restarts (every service there has a fixed one).
  "$engine" run --rm "${quiet[@]}" --network host -v "${COMPOSE_PROJECT}_cluster-tls:/tls:ro" \
      --entrypoint bash "javastor/csi:$TAG" -ec '
        java -XX:SharedArchiveFile=/opt/javastor/app.jsa -Xlog:cds=off -Xlog:cds+dynamic=off -cp /opt/javastor/app.jar io.javastor.csi.node.HostSecretsCommand \
          --agent 127.0.0.1:50051 --volume "$1" --node "$2" --ca-file /tls/ca.crt --cert-file /tls/csi-node.crt --key-file /tls/csi-node.key' \
      host-secrets "$volume" "$node"
}

cmd_compose() {
  local sub=${1:-}; shift || true
  [ "$(compose_engine)" = podman ] && podman_conf
  case "$sub" in
    up) compose_up ;;
    down) compose_down "$@" ;;
    status) compose_status ;;
    logs) [ -n "${1:-}" ] || die "usage: ./javastor compose logs SERVICE"; compose_cmd logs --tail=200 "$@" ;;
    token) compose_cat rest-gateway /etc/javastor-auth/admin.token ;;
    ca) compose_cat rest-gateway /etc/javastor-tls/ca.crt ;;
    host-secrets) compose_host_secrets "$@" ;;
    # The engine's Docker API socket (podman's started here if needed), for Docker API clients such as Testcontainers.
    socket) local e; e=$(compose_engine); with_image_lock compose_install "$e"
            if [ "$e" = podman ]; then podman_service_up; echo "unix://$(podman_socket)"; else echo "${DOCKER_HOST:-unix:///var/run/docker.sock}"; fi ;;
    images) local e n; e=$(compose_engine)
            for n in "$@"; do [[ " $COMPOSE_JAVA_IMAGES " == *" $n:"* ]] || die "compose images: no Java image named $n (images: io-engine core-agent rest-gateway csi)"; done
            with_image_lock compose_install "$e"; [ "$e" = podman ] && podman_conf; with_image_lock compose_images "$e" "$@" ;;
    # The images that need no build of ours (Debian, JRE, etcd, PostgreSQL): what `./javastor test` makes meanwhile.
    base-images) local e; e=$(compose_engine); with_image_lock compose_install "$e"; [ "$e" = podman ] && podman_conf
                 with_image_lock compose_base_images "$e" ;;
    *) die "usage: ./javastor compose up|down [-v]|status|logs SERVICE|token|ca|host-secrets VOLUME NODE|images [NAME...]|base-images|socket" ;;
  esac
}

# syntax=docker/dockerfile:1.7
# Javastor io-engine: pools, replicas, nexus and the NVMe-oF/TCP target of one storage node.
#   docker build -f docker/io-engine.Dockerfile -t javastor/io-engine:0.1.0 .      (context: the repository root)
# Build arguments (docs/containers.md):
#   JRE_IMAGE    the runtime's base, a Java 17 JRE on Ubuntu or Debian (no registry: docker/jre.Dockerfile)
#   MAVEN_IMAGE  the build stage's base: a JDK 17 with Maven (APP_JAR=source; its gcc and liburing-dev are installed
#                there, for the io-engine's JNI library); with APP_JAR=prebuilt any Java 17 (e.g. the JRE_IMAGE)
#   MAVEN_ARGS   more arguments for that Maven (APP_JAR=source)
#   APP_JAR      source (default): Maven builds the jar in the build stage, with a cache mount for ~/.m2;
#                prebuilt: take the -exec jar a host build (`mvn package`) left in io-engine-jni/target/ (the context
#                keeps target/*-exec.jar and nothing else of target/): no Maven or JDK in the image build
ARG MAVEN_IMAGE=maven:3.9-eclipse-temurin-17
ARG JRE_IMAGE=eclipse-temurin:17-jre-noble
ARG APP_JAR=source

# ---- build: the application jar (built by Maven here, or the host's), then its layers (dependencies change less
# often than the application, so image pulls reuse them). One stage with a condition, not a stage per source: buildah
# (podman build) cannot tell which stage a FROM naming a build argument uses.
FROM ${MAVEN_IMAGE} AS build
ARG APP_JAR
# More Maven arguments, e.g. -o -Dmaven.repo.local=/m2 with `podman build -v ~/.m2:/m2` (a host's repository)
ARG MAVEN_ARGS=
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.m2 \
    if [ "$APP_JAR" = prebuilt ]; then \
      cp io-engine-jni/target/io-engine-*-exec.jar /app.jar; \
    else \
      apt-get update \
      && apt-get install -y --no-install-recommends gcc make libc6-dev liburing-dev \
      && mvn -B -q $MAVEN_ARGS -pl io-engine-jni -am package -DskipTests \
      && cp io-engine-jni/target/io-engine-*-exec.jar /app.jar; \
    fi \
 && java -Djarmode=tools -jar /app.jar extract --layers --application-filename app.jar --destination /layers

# ---- run: JRE + liburing (the JNI library links liburing.so.2) ----
FROM ${JRE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends liburing2 curl \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /opt/javastor /etc/javastor /var/lib/javastor
WORKDIR /opt/javastor
COPY --from=build /layers/dependencies/ ./
COPY --from=build /layers/snapshot-dependencies/ ./
COPY --from=build /layers/application/ ./
# Containers listen on every interface (the default is loopback, for a dev machine).
ENV JAVASTOR_BIND=0.0.0.0 \
    SPRING_CONFIG_ADDITIONAL_LOCATION=optional:file:/etc/javastor/ \
    JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=50 -XX:MaxDirectMemorySize=256m -XX:+ExitOnOutOfMemoryError -XX:-UsePerfData"
# Class data sharing (docs/containers.md, "Start-up"): a training run at build time (docker/cds-train.sh) refreshes the application context
# (no disks, plaintext, an ephemeral NVMe-oF port; nothing written to /var/lib/javastor) and exits; the JVM writes the
# ~9,800 classes it loaded to app.jsa, which every start then maps instead of loading and verifying them again (half
# the start's CPU time). The NVMe-oF target's reactor needs io_uring, which a builder's default seccomp profile refuses:
# ./javastor builds with docker/seccomp-io-engine.json (podman build --security-opt); elsewhere the run stops there and
# the archive holds the classes loaded until then.
RUN --mount=type=bind,source=docker/cds-train.sh,target=/tmp/cds-train.sh \
    sh /tmp/cds-train.sh io-engine --tolerate 'io_uring_queue_init failed' --javastor.io-engine.nvmf.port=0
# gRPC API, NVMe-oF/TCP, Actuator (health, metrics).
EXPOSE 10124 8420 9502
# File pools live here (mount a volume).
VOLUME /var/lib/javastor
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${JAVASTOR_HTTP_PORT:-9502}/actuator/health/liveness" >/dev/null || exit 1
# The archive is used when it matches this JVM (it does in this image); otherwise the JVM starts without it, silently.
ENTRYPOINT ["java", "-XX:SharedArchiveFile=/opt/javastor/app.jsa", "-Xlog:cds=off", "-Xlog:cds+dynamic=off", "-jar", "/opt/javastor/app.jar"]

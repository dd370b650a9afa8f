# syntax=docker/dockerfile:1.7
# Javastor csi: the CSI plugin, controller or node mode by configuration.
#   docker build -f docker/csi.Dockerfile -t javastor/csi:0.1.0 .      (context: the repository root)
# Build arguments (docs/containers.md):
#   JRE_IMAGE    the runtime's base, a Java 17 JRE on Ubuntu or Debian (no registry: docker/jre.Dockerfile)
#   MAVEN_IMAGE  the build stage's base: a JDK 17 with Maven (APP_JAR=source; its gcc and liburing-dev are installed
#                there, for the io-engine's JNI library); with APP_JAR=prebuilt any Java 17 (e.g. the JRE_IMAGE)
#   MAVEN_ARGS   more arguments for that Maven (APP_JAR=source)
#   APP_JAR      source (default): Maven builds the jar in the build stage, with a cache mount for ~/.m2;
#                prebuilt: take the -exec jar a host build (`mvn package`) left in services/csi/target/ (the context
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
      cp services/csi/target/csi-*-exec.jar /app.jar; \
    else \
      apt-get update \
      && apt-get install -y --no-install-recommends gcc make libc6-dev liburing-dev \
      && mvn -B -q $MAVEN_ARGS -pl services/csi -am package -DskipTests \
      && cp services/csi/target/csi-*-exec.jar /app.jar; \
    fi \
 && java -Djarmode=tools -jar /app.jar extract --layers --application-filename app.jar --destination /layers

# ---- run: JRE only, unprivileged (node mode: the chart runs it privileged as root, for nvme connect, mkfs, mount) ----
FROM ${JRE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl nvme-cli kmod e2fsprogs xfsprogs util-linux mount \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 javastor \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /opt/javastor --shell /usr/sbin/nologin javastor \
 && mkdir -p /opt/javastor /etc/javastor /run/javastor \
 && chown 10001:10001 /run/javastor
WORKDIR /opt/javastor
COPY --from=build /layers/dependencies/ ./
COPY --from=build /layers/snapshot-dependencies/ ./
COPY --from=build /layers/application/ ./
# The plugin serves CSI on a unix socket and no HTTP port (web-application-type none): the health check is a real
# CSI Identity/Probe over that socket (docker/csi-probe.sh, with curl's HTTP/2).
COPY docker/csi-probe.sh /usr/local/bin/csi-probe
ENV SPRING_CONFIG_ADDITIONAL_LOCATION=optional:file:/etc/javastor/ \
    JAVASTOR_CSI_ENDPOINT=unix:///run/javastor/csi.sock \
    JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError"
# Class data sharing (docs/containers.md, "Start-up"): a training run at build time (docker/cds-train.sh) refreshes the application context
# (controller mode, the node mode's classes are mostly the same; no gateway asked) and exits; the JVM writes the
# ~6,800 classes it loaded to app.jsa, which every start then maps instead of loading and verifying them again (half
# the start's CPU time).
RUN --mount=type=bind,source=docker/cds-train.sh,target=/tmp/cds-train.sh \
    sh /tmp/cds-train.sh csi --javastor.csi.mode=controller \
      --javastor.csi.endpoint=unix:///tmp/cds-training/csi.sock --javastor.csi.rest-url=http://127.0.0.1:1 \
      --javastor.csi.rest-token-file=/tmp/cds-training/secret
USER 10001:10001
HEALTHCHECK --interval=10s --timeout=6s --start-period=60s --retries=3 CMD ["csi-probe"]
# The archive is used when it matches this JVM (it does in this image); otherwise the JVM starts without it, silently.
ENTRYPOINT ["java", "-XX:SharedArchiveFile=/opt/javastor/app.jsa", "-Xlog:cds=off", "-Xlog:cds+dynamic=off", "-jar", "/opt/javastor/app.jar"]

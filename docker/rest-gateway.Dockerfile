# syntax=docker/dockerfile:1.7
# Javastor rest-gateway: the public REST API (/v0, Swagger UI).
#   docker build -f docker/rest-gateway.Dockerfile -t javastor/rest-gateway:0.1.0 .      (context: the repository root)
# Build arguments (docs/containers.md):
#   JRE_IMAGE    the runtime's base, a Java 17 JRE on Ubuntu or Debian (no registry: docker/jre.Dockerfile)
#   MAVEN_IMAGE  the build stage's base: a JDK 17 with Maven (APP_JAR=source; its gcc and liburing-dev are installed
#                there, for the io-engine's JNI library); with APP_JAR=prebuilt any Java 17 (e.g. the JRE_IMAGE)
#   MAVEN_ARGS   more arguments for that Maven (APP_JAR=source)
#   APP_JAR      source (default): Maven builds the jar in the build stage, with a cache mount for ~/.m2;
#                prebuilt: take the -exec jar a host build (`mvn package`) left in services/rest-gateway/target/ (the context
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
      cp services/rest-gateway/target/rest-gateway-*-exec.jar /app.jar; \
    else \
      apt-get update \
      && apt-get install -y --no-install-recommends gcc make libc6-dev liburing-dev \
      && mvn -B -q $MAVEN_ARGS -pl services/rest-gateway -am package -DskipTests \
      && cp services/rest-gateway/target/rest-gateway-*-exec.jar /app.jar; \
    fi \
 && java -Djarmode=tools -jar /app.jar extract --layers --application-filename app.jar --destination /layers

# ---- run: JRE only, unprivileged ----
FROM ${JRE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 javastor \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /opt/javastor --shell /usr/sbin/nologin javastor \
 && mkdir -p /opt/javastor /etc/javastor /run/javastor \
 && chown 10001:10001 /run/javastor
WORKDIR /opt/javastor
COPY --from=build /layers/dependencies/ ./
COPY --from=build /layers/snapshot-dependencies/ ./
COPY --from=build /layers/application/ ./
# Container defaults (./config/ is one of Spring Boot's default locations): listen on every interface,
# not on loopback as on a dev machine. Files in /etc/javastor/ (the helm chart's ConfigMap) override them.
RUN mkdir -p /opt/javastor/config && printf 'server:\n  address: 0.0.0.0\n' > /opt/javastor/config/application.yaml
ENV SPRING_CONFIG_ADDITIONAL_LOCATION=optional:file:/etc/javastor/ \
    JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError"
EXPOSE 8081
# Class data sharing (docs/containers.md, "Start-up"): a training run at build time (docker/cds-train.sh) refreshes the application context
# (plaintext, a throwaway JWT key, no core agent asked) and exits; the JVM writes the ~14,000 classes it loaded to
# app.jsa, which every start then maps instead of loading and verifying them again (half the start's CPU time).
RUN --mount=type=bind,source=docker/cds-train.sh,target=/tmp/cds-train.sh \
    sh /tmp/cds-train.sh rest-gateway --javastor.gateway.auth.jwt-secret-file=/tmp/cds-training/secret
USER 10001:10001
# HTTPS by default (javastor.tls); a loopback liveness probe reads no data, so it does not check the certificate.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD curl -fsSk "${HEALTH_SCHEME:-https}://127.0.0.1:${HEALTH_PORT:-8081}/actuator/health/liveness" >/dev/null || exit 1
# The archive is used when it matches this JVM (it does in this image); otherwise the JVM starts without it, silently.
ENTRYPOINT ["java", "-XX:SharedArchiveFile=/opt/javastor/app.jsa", "-Xlog:cds=off", "-Xlog:cds+dynamic=off", "-jar", "/opt/javastor/app.jar"]

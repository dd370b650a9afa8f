# A Java 17 runtime (a JRE, not a JDK) on Debian, for machines without an image registry: the service images'
# JRE_IMAGE when eclipse-temurin cannot be pulled. Its own base is a build argument too (debian:bookworm-slim,
# or a Debian made locally with mmdebstrap and `podman import`, as ./javastor compose does: docs/containers.md).
#   docker build -f docker/jre.Dockerfile -t javastor/jre:17 .
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
# (The JRE's postinst needs the man folder that slim and minbase images leave out.)
RUN mkdir -p /usr/share/man/man1 \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jre-headless \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin

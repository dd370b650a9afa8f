# etcd from Debian's package (etcd-server 3.4, with etcdctl for the health check): the compose cluster's store of
# specs and leases, built here because no registry may be reachable (quay.io's image is the same etcd).
#   docker build -f docker/etcd.Dockerfile -t javastor/etcd:3.4 .
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends etcd-server etcd-client \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && groupadd --gid 10001 javastor \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /var/lib/etcd --shell /usr/sbin/nologin javastor \
 && mkdir -p /var/lib/etcd && chown 10001:10001 /var/lib/etcd
ENV ETCDCTL_API=3
EXPOSE 2379 2380
# The services' user (10001), which owns the cluster's certificates in compose (cluster-tls-init).
USER 10001:10001
CMD ["etcd"]

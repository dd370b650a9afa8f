# PostgreSQL 15 from Debian's package: the core agent's event history in the compose cluster. It behaves like the
# official image for what compose uses: POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB make the database on first
# start, data in /var/lib/postgresql/data, listening on 5432 with password (scram) authentication.
#   docker build -f docker/postgres.Dockerfile -t javastor/postgres:15 .
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
 && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
COPY docker/postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
EXPOSE 5432
USER postgres
ENTRYPOINT ["postgres-entrypoint"]

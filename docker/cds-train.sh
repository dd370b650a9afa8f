#!/bin/sh
# The class-data training run of a Java image (docs/containers.md, "Start-up"), in its run stage before USER:
#   RUN --mount=type=bind,source=docker/cds-train.sh,target=/tmp/cds-train.sh \
#       sh /tmp/cds-train.sh NAME [--tolerate TEXT] [APPLICATION ARGUMENTS...]
# It starts /opt/javastor/app.jar once with TLS off, refreshes the application context (every bean made, no server
# started) and exits; the JVM writes the classes it loaded to /opt/javastor/app.jsa, which the image's entry point maps.
# /tmp/cds-training/secret is a throwaway secret for a service that must read one (a JWT key, a token file).
# A failed run fails the build with its log's tail, unless its log holds TEXT (--tolerate) and an archive was written:
# then it warns and keeps the archive of the classes loaded until then (the io-engine's reactor under a builder that
# refuses io_uring).
# CDS_APP_DIR and CDS_TMP (defaults /opt/javastor and /tmp) exist for the script's own test, which runs it on a host.
# C1 only and the serial collector: the run is short and its compiled code is not archived (JDK 17), so C2 and G1's
# threads would only take CPU from a build that may share the machine with others; the archive maps under any flags.
set -u
name=${1:?usage: cds-train.sh NAME [--tolerate TEXT] [ARGS...]}
shift
tolerate=
if [ "${1:-}" = --tolerate ]; then
  tolerate=${2:?--tolerate needs the text of a failure to accept}
  shift 2
fi
app=${CDS_APP_DIR:-/opt/javastor} tmp=${CDS_TMP:-/tmp}
work=$tmp/cds-training archive=$app/app.jsa
mkdir -p "$work/tmp"
head -c 48 /dev/urandom | base64 > "$work/secret"
rc=0
# Its temporary files (Tomcat's, the io-engine's native library) in $work/tmp, and no perf data file: nothing of the
# run stays in the image but the archive.
java -XX:ArchiveClassesAtExit="$archive" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData -Xlog:cds=off \
  -Xlog:cds+dynamic=off -Djava.io.tmpdir="$work/tmp" \
  -Dspring.context.exit=onRefresh -jar "$app/app.jar" --javastor.tls.enabled=false "$@" > "$work/log" 2>&1 || rc=$?
if [ "$rc" -eq 0 ] && [ -s "$archive" ]; then
  :
elif [ "$rc" -ne 0 ] && [ -n "$tolerate" ] && grep -q -- "$tolerate" "$work/log" && [ -s "$archive" ]; then
  echo "warning: the class-data training run of $name stopped early ($tolerate): the archive covers the start up to there" >&2
else
  tail -40 "$work/log"
  echo "the class-data training run of $name failed (exit $rc$( [ -s "$archive" ] || echo ', no archive'))" >&2
  exit 1
fi
rm -rf "$work"

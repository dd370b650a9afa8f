#!/bin/sh
# Health check of the CSI plugin: a real CSI Identity/Probe call over its unix socket ($JAVASTOR_CSI_ENDPOINT, or
# the socket given as $1). gRPC is HTTP/2, which curl speaks (h2c over a unix socket): Probe is one POST of an
# empty message (5 bytes: no compression, length 0). Healthy: grpc-status 0 and ProbeResponse{ready: true}
# (bytes 0a 02 08 01). The plugin serves no HTTP port (CSI is its only interface), so nothing else to ask.
set -u
sock=${1:-${JAVASTOR_CSI_ENDPOINT:-unix:///run/javastor/csi.sock}}
sock=${sock#unix://}
[ -S "$sock" ] || { echo "no CSI socket at $sock" >&2; exit 1; }
body=$(mktemp) || exit 1
trap 'rm -f "$body"' EXIT
hdr=$(printf '\0\0\0\0\0' | curl -s -m 5 --http2-prior-knowledge --unix-socket "$sock" -X POST \
        -H 'content-type: application/grpc' -H 'te: trailers' --data-binary @- -D - -o "$body" \
        http://localhost/csi.v1.Identity/Probe) || { echo "CSI Probe on $sock failed" >&2; exit 1; }
hex=$(od -An -tx1 "$body" | tr -d ' \n')
case "$hdr" in *"grpc-status: 0"*) ;; *) echo "CSI Probe: $hdr" >&2; exit 1 ;; esac
case "$hex" in *0a020801*) exit 0 ;; *) echo "CSI Probe: not ready ($hex)" >&2; exit 1 ;; esac

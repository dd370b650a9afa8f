#!/usr/bin/env bash
# Guest script (linux-nvme-vm): connect the kernel's NVMe/TCP initiator to a published nexus, then let the host grow
# it and check that the kernel sees the new size by itself (the target's Namespace Attribute Changed notice), on the
# same controller, and that the grown range takes data.
#   guest-resize.sh ADDRESS PORT NQN GROWN_BYTES
# Handshake with the host through the shared folder /tmp/share: connected -> (host resizes) -> resized.
set -u
addr=$1 port=$2 nqn=$3 grown=$4
share=/tmp/share
fail() { echo "FAIL: $*"; nvme disconnect -n "$nqn" >/dev/null 2>&1; exit 1; }
nvme connect -t tcp -a "$addr" -s "$port" -n "$nqn" || fail "connect"
dev= sub=
for i in $(seq 1 40); do
  for s in /sys/class/nvme-subsystem/*; do
    [ "$(cat "$s/subsysnqn" 2>/dev/null)" = "$nqn" ] || continue
    sub=$s; dev=$(ls "$s" | grep -E '^nvme[0-9]+n[0-9]+$' | head -1)
  done
  [ -n "$dev" ] && break; sleep 0.5
done
[ -n "$dev" ] || fail "no namespace block device appeared"
ctrl=$(ls "$sub" | grep -E '^nvme[0-9]+$' | head -1)
cntlid=$(cat "$sub/$ctrl/cntlid")
before=$(( $(cat /sys/block/$dev/size) * 512 ))
echo "device: /dev/$dev, controller $ctrl cntlid $cntlid, $before bytes"
dd if=/dev/urandom of=/tmp/head bs=1M count=1 status=none
dd if=/tmp/head of=/dev/$dev bs=1M oflag=direct status=none || fail "write before the resize"
echo connected > "$share/connected"
for i in $(seq 1 600); do [ -f "$share/resized" ] && break; sleep 0.5; done
[ -f "$share/resized" ] || fail "the host did not resize within 300 s"
start=$(date +%s%N)
size=0
for i in $(seq 1 600); do
  size=$(( $(cat /sys/block/$dev/size) * 512 ))
  [ "$size" = "$grown" ] && break
  sleep 0.1
done
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$size" = "$grown" ] || fail "/sys/block/$dev/size stayed $size bytes, expected $grown (no rescan was run)"
echo "kernel: /sys/block/$dev/size is $grown bytes ${ms} ms after the resize, without a rescan"
dmesg | grep -iE 'rescanning|capacity change' | tail -3
[ "$(cat "$sub/$ctrl/cntlid")" = "$cntlid" ] || fail "the controller changed: a reconnect happened"
[ "$(blockdev --getsize64 /dev/$dev)" = "$grown" ] || fail "blockdev --getsize64 disagrees"
dd if=/dev/urandom of=/tmp/tail bs=1M count=1 status=none
dd if=/tmp/tail of=/dev/$dev bs=1M seek=$(( grown / 1048576 - 1 )) oflag=direct status=none || fail "write at the grown end"
dd if=/dev/$dev of=/tmp/tail.back bs=1M skip=$(( grown / 1048576 - 1 )) count=1 iflag=direct status=none || fail "read at the grown end"
cmp /tmp/tail /tmp/tail.back || fail "the grown end read back differs"
dd if=/dev/$dev of=/tmp/head.back bs=1M count=1 iflag=direct status=none || fail "read the head"
cmp /tmp/head /tmp/head.back || fail "data written before the resize differs"
echo "data: last MiB of the grown range and first MiB from before the resize read back identical"
nvme disconnect -n "$nqn" || fail "disconnect"
echo "PASS"

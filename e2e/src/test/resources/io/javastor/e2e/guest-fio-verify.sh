#!/usr/bin/env bash
# Guest script (runs in the Linux VM of ../shared/tools/linux-nvme-vm, from its shared folder /tmp/share):
#   guest-fio-verify.sh ADDRESS PORT NQN SIZE_MB RATE_KB WAIT_S
# Connects the kernel's NVMe/TCP initiator to the volume's target (as the host the volume is published to, with its
# DH-HMAC-CHAP secrets: the nvme connect options in ./auth.NQN, which the host left in the shared folder), then:
#   1. writes SIZE_MB of random 64 KiB blocks (each block once, crc32c verify headers, RATE_KB KiB/s so that the
#      write phase lasts while the host kills a replica's node and the core agent replaces it), verified at the end;
#   2. waits (up to WAIT_S) for the host to say the volume is whole again (file ./recovered), and
#   3. reads everything back with fio --verify_only: data written before, during and after the loss, now served
#      by a set of replicas that includes the rebuilt one.
# Markers for the host in the shared folder: connected, writing, written. Exit 0 and "PASS" only if every step passed.
set -u
addr=$1 port=$2 nqn=$3 size_mb=$4 rate_kb=$5 wait_s=$6
fail() { echo "FAIL: $*"; touch ./failed; nvme disconnect -n "$nqn" >/dev/null 2>&1; exit 1; }
# ctrl-loss-tmo -1: the initiator never gives up on the target (it does not move in this test).
[ -s "./auth.$nqn" ] || fail "no connect options ./auth.$nqn"
nvme connect -t tcp -a "$addr" -s "$port" -n "$nqn" --ctrl-loss-tmo=-1 $(cat "./auth.$nqn") || fail "connect"
dev=
for i in $(seq 1 60); do
  for s in /sys/class/nvme-subsystem/*; do
    [ "$(cat "$s/subsysnqn" 2>/dev/null)" = "$nqn" ] || continue
    dev=$(ls "$s" | grep -E '^nvme[0-9]+n[0-9]+$' | head -1)
  done
  [ -n "$dev" ] && break; sleep 0.5
done
[ -n "$dev" ] || fail "no namespace block device appeared"
dev=/dev/$dev; echo "device: $dev ($(cat /sys/block/${dev#/dev/}/size) sectors)"
touch ./connected

job=(--name=e2e --filename="$dev" --rw=randwrite --bs=64k --size="${size_mb}M" --ioengine=libaio --direct=1 --iodepth=8
     --verify=crc32c --randrepeat=1 --randseed=4242 --eta=never)
touch ./writing
echo "phase 1: write ${size_mb} MiB at ${rate_kb} KiB/s, verify at the end"
fio "${job[@]}" --do_verify=1 --rate="${rate_kb}k" --output=./fio-write.txt; rc=$?
cat ./fio-write.txt
touch ./written
[ $rc -eq 0 ] || fail "fio write phase exited $rc"
grep -qiE 'verify.*(fail|bad)|bad magic|crc32c: verify failed' ./fio-write.txt && fail "fio write phase reported a verify error"

echo "phase 2: waiting up to ${wait_s} s for the host to report the volume whole again"
for i in $(seq 1 $((wait_s * 2))); do [ -e ./recovered ] && break; [ -e ./abort ] && fail "host aborted"; sleep 0.5; done
[ -e ./recovered ] || fail "the host did not report the volume recovered within ${wait_s} s"

echo "phase 3: read back and verify everything written in phase 1"
fio "${job[@]}" --verify_only --output=./fio-verify.txt; rc=$?
cat ./fio-verify.txt
[ $rc -eq 0 ] || fail "fio verify_only exited $rc"
grep -qiE 'verify.*(fail|bad)|bad magic|crc32c: verify failed' ./fio-verify.txt && fail "fio verify phase reported a verify error"
nvme disconnect -n "$nqn" || fail "disconnect"
echo "PASS"

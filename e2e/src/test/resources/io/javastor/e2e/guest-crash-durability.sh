#!/usr/bin/env bash
# Guest script (runs in the Linux VM of ../shared/tools/linux-nvme-vm, from its shared folder /tmp/share):
#   guest-crash-durability.sh ADDRESS PORT NQN_FUA NQN_FS CLUSTER_BYTES FUA_WRITES FILES_BEFORE WAIT_S MODULE_ROOT
# (MODULE_ROOT: the guest kernel's ext4 and crc32c_generic modules for `modprobe -d`, which the harness's initramfs lacks)
# Two published thin volumes whose targets are on the same node, both connected with the kernel's NVMe/TCP initiator
# with --ctrl-loss-tmo=-1 (it reconnects to the same address, however long the target is gone), as the host they are
# published to, with its DH-HMAC-CHAP pair (./auth.NQN: nvme connect options the host left in the shared folder):
#   (b) ext4 on NQN_FS; a loop writes file i, fsyncs it and its directory, and only then appends "i sha256" to
#       ./fsynced.log (the host-visible record of the fsyncs that returned);
#   (a) once FILES_BEFORE files are fsync'd: FUA_WRITES `nvme write --force-unit-access` (no Flush) of one 4 KiB block
#       each, block k at the start of cluster k of NQN_FUA (never written before: fresh clusters), then ./fua-acked.
#       The host kills the targets' io-engine with kill -9 the moment it sees ./fua-acked (the ext4 loop still runs),
#       shares the FUA volume's surviving replicas (on the other nodes) and lists them in ./survivors; the guest reads
#       every FUA block from each of them directly (./survivors-read): their own copies, before any rebuild. The host
#       restarts the io-engine and writes ./recovered once the core agent has re-created both targets with all their
#       replicas (after a crash it starts a target from its own node's replica and rebuilds the others from it).
#   Then: the FUA blocks are read back through the volume (O_DIRECT); the loop stops; ext4 is unmounted, the block
#   device's cache dropped, `fsck.ext4 -n -f` must be clean, and every file in ./fsynced.log must read back intact.
#   Both volumes are disconnected (./disconnected); the host unpublishes the FUA volume, shares each of its replicas
#   and lists them in ./replicas ("NAME PORT NQN" lines); every FUA block is read from every replica directly.
# Exit 0 and "PASS" only if every check passed; "FAIL: reason" (exit 1) at the first that did not.
set -u
addr=$1 port=$2 nqn_a=$3 nqn_b=$4 cluster=$5 nfua=$6 files_before=$7 wait_s=$8 modroot=$9
share=$PWD
mnt=/run/mnt-fs
fail() {
  echo "FAIL: $*"; touch "$share/failed"; touch /run/stop-loop
  umount "$mnt" >/dev/null 2>&1
  for q in "$nqn_a" "$nqn_b"; do nvme disconnect -n "$q" >/dev/null 2>&1; done
  exit 1
}
t0=$(date +%s)
say() { echo "[guest +$(( $(date +%s) - t0 )) s] $*"; }

# wait_for SECONDS WHAT CONDITION...: polls the condition every 0.2 s; fails naming WHAT after SECONDS.
wait_for() {
  local limit=$1 what=$2; shift 2
  local deadline=$(( $(date +%s) + limit ))
  until "$@"; do
    [ -e "$share/abort" ] && fail "host aborted while waiting for $what"
    [ "$(date +%s)" -lt "$deadline" ] || fail "$what: not within $limit s"
    sleep 0.2
  done
}

# The namespace block device of a connected subsystem, by NQN (empty if none yet).
device_of() {
  local s
  for s in /sys/class/nvme-subsystem/*; do
    [ "$(cat "$s/subsysnqn" 2>/dev/null)" = "$1" ] || continue
    ls "$s" | grep -E '^nvme[0-9]+n[0-9]+$' | head -1
  done
}
has_device() { [ -n "$(device_of "$1")" ]; }

connect() { # ADDRESS PORT NQN [extra nvme connect options]: sets dev to the namespace's block device
  local a=$1 p=$2 q=$3; shift 3
  # A volume's target admits its host with its DH-HMAC-CHAP pair (./auth.NQN, left by the host); a replica shared
  # to the guest has none.
  local auth=; [ -s "./auth.$q" ] && auth=$(cat "./auth.$q")
  nvme connect -t tcp -a "$a" -s "$p" -n "$q" "$@" $auth >/dev/null || fail "nvme connect $a:$p $q"
  wait_for 30 "block device of $q" has_device "$q"
  dev=/dev/$(device_of "$q")
}

# The 4 KiB pattern of FUA block k: a header naming it, then bytes derived from k (each block distinct).
pattern() {
  local k=$1
  { printf 'javastor FUA block %02d, cluster %d, written with FUA and no Flush\n' "$k" "$k"
    head -c 8192 /dev/zero | tr '\0' "$(printf "\\$(printf '%03o' $(( 65 + k )))")"; } | head -c 4096
}

check_blocks() { # DEVICE WHERE
  local dev=$1 where=$2 k bad=0
  for k in $(seq 0 $((nfua - 1))); do
    dd if="$dev" of="/run/read-$k" bs=4096 count=1 skip=$(( k * cluster / 4096 )) iflag=direct status=none || { echo "  $where block $k: read failed"; bad=1; continue; }
    cmp -s "/run/read-$k" "/run/fua-$k" || { echo "  $where block $k: differs; starts with: $(head -c 64 "/run/read-$k" | tr -c '[:print:]' '.')"; bad=1; }
  done
  [ $bad -eq 0 ] && echo "  $where: all $nfua FUA blocks intact"
  return $bad
}

say "connecting $nqn_a and $nqn_b at $addr:$port (ctrl-loss-tmo -1, reconnect every 1 s)"
connect "$addr" "$port" "$nqn_a" --ctrl-loss-tmo=-1 --reconnect-delay=1; dev_a=$dev
connect "$addr" "$port" "$nqn_b" --ctrl-loss-tmo=-1 --reconnect-delay=1; dev_b=$dev
lbs=$(cat "/sys/block/${dev_a#/dev/}/queue/logical_block_size")
say "FUA volume $dev_a ($(cat /sys/block/${dev_a#/dev/}/size) sectors, block $lbs B), file system volume $dev_b"
[ $(( 4096 % lbs )) -eq 0 ] && [ $(( cluster % lbs )) -eq 0 ] || fail "block size $lbs does not divide 4096 and $cluster"
for k in $(seq 0 $((nfua - 1))); do pattern "$k" > "/run/fua-$k"; done
touch ./connected

# (b) ext4, and the write + fsync loop in the background.
if ! grep -qw ext4 /proc/filesystems; then
  modprobe -d "$modroot" crc32c_generic && modprobe -d "$modroot" ext4 || fail "modprobe -d $modroot ext4 (kernel $(uname -r))"
fi
mkfs.ext4 -F -q -E nodiscard,lazy_itable_init=0,lazy_journal_init=0 "$dev_b" || fail "mkfs.ext4 $dev_b"
mkdir -p "$mnt" && mount -t ext4 "$dev_b" "$mnt" || fail "mount $dev_b"
mkdir -p "$mnt/data" && sync -f "$mnt" || fail "mkdir on the file system"
: > ./fsynced.log
content() { # file i: 6 KiB derived from i
  awk -v i="$1" 'BEGIN { for (n = 1; n <= 240; n++) printf "file %05d line %03d %05d\n", i, n, (i * 7919 + n * 104729) % 100000 }' | head -c 6144
}
loop() {
  local i=0 f sum
  rm -f /run/stop-loop /run/loop-failed
  while [ ! -e /run/stop-loop ]; do
    i=$((i + 1)); f="$mnt/data/f$(printf '%05d' "$i")"
    content "$i" > "/run/content"
    sum=$(sha256sum < /run/content | cut -d' ' -f1)
    # dd conv=fsync: fsync(2) of the file before dd exits 0; then fsync of the directory that names it.
    if ! dd if=/run/content of="$f" bs=6144 conv=fsync status=none; then echo "file $i: write or fsync failed" > /run/loop-failed; return 1; fi
    if ! sync "$mnt/data"; then echo "file $i: fsync of the directory failed" > /run/loop-failed; return 1; fi
    echo "$i $sum $( [ -e "$share/recovered" ] && echo after || echo before)" >> ./fsynced.log
  done
}
loop & loop_pid=$!
count() { wc -l < ./fsynced.log; }
enough_files() { [ "$(count)" -ge "$files_before" ] || { kill -0 "$loop_pid" 2>/dev/null || fail "the fsync loop stopped: $(cat /run/loop-failed 2>/dev/null)"; false; }; }
wait_for 300 "$files_before fsync'd files" enough_files
say "(b) $(count) files written and fsync'd on ext4; the loop goes on"

# (a) FUA writes, no Flush, one per fresh cluster; then the marker the host kills the target on.
per=$((4096 / lbs))
for k in $(seq 0 $((nfua - 1))); do
  nvme write "$dev_a" --start-block=$(( k * cluster / lbs )) --block-count=$((per - 1)) --data-size=4096 \
      --data="/run/fua-$k" --force-unit-access >/dev/null 2>./nvme-write.err || fail "nvme write --force-unit-access of block $k: $(cat ./nvme-write.err)"
done
touch ./fua-acked
say "(a) $nfua FUA writes acknowledged (start of clusters 0..$((nfua - 1)) of $cluster B); ./fua-acked; $(count) files fsync'd so far"

# (a) while the target is down: the surviving replicas as the dead nexus left them (the re-created target will
# rebuild them from its own node's replica, so this is the only look at their own copies of the FUA writes).
read_replicas() { # LIST: "NAME PORT NQN" lines; reads every FUA block from each, directly
  local list=$1 name rport rnqn bad=0 n=0
  while read -r name rport rnqn; do
    n=$((n + 1))
    connect "$addr" "$rport" "$rnqn" </dev/null
    check_blocks "$dev" "replica on $name ($addr:$rport)" || bad=1
    nvme disconnect -n "$rnqn" </dev/null >/dev/null || fail "disconnect $rnqn"
  done < "$list"
  [ $n -ge 1 ] || fail "no replicas listed in $list"
  replicas_read=$n
  return $bad
}
survivors() { [ -s "$share/survivors" ]; }
wait_for 180 "the host's list of surviving replicas (./survivors)" survivors
read_replicas "$share/survivors" || fail "(a) FUA blocks not intact on the surviving replicas, read while the target was down"
touch ./survivors-read
say "(a) all $nfua FUA blocks intact on the $replicas_read surviving replicas, read while the target was down"

recovered() { [ -e "$share/recovered" ]; }
wait_for "$wait_s" "the host's ./recovered (targets re-created)" recovered
say "the host reports both targets re-created; $(count) files fsync'd so far"

# (a) through the volume, O_DIRECT (the kernel reconnected to the re-created target).
check_blocks "$dev_a" "volume (through the re-created target)" || fail "(a) FUA blocks not intact through the volume"

# (b) a few more files after the reconnection, then stop the loop.
after() { [ "$(grep -c ' after$' ./fsynced.log)" -ge 3 ] || { kill -0 "$loop_pid" 2>/dev/null || fail "the fsync loop stopped: $(cat /run/loop-failed 2>/dev/null)"; false; }; }
wait_for 120 "3 files fsync'd after the reconnection" after
touch /run/stop-loop
wait "$loop_pid"; rc=$?
[ $rc -eq 0 ] || fail "the fsync loop failed: $(cat /run/loop-failed 2>/dev/null)"
total=$(count)
say "(b) loop stopped: $total files fsync'd ($(grep -c ' before$' ./fsynced.log) before the recovery, $(grep -c ' after$' ./fsynced.log) after)"
umount "$mnt" || fail "umount"
blockdev --flushbufs "$dev_b"; echo 3 > /proc/sys/vm/drop_caches
fsck.ext4 -n -f "$dev_b" > ./fsck.txt 2>&1; rc=$?
sed 's/^/  fsck: /' ./fsck.txt
[ $rc -eq 0 ] || fail "(b) fsck.ext4 -n -f exited $rc"
mount -t ext4 -o ro "$dev_b" "$mnt" || fail "mount -o ro $dev_b"
bad=0
while read -r i sum _; do
  f="$mnt/data/f$(printf '%05d' "$i")"
  [ -f "$f" ] || { echo "  file $i: missing"; bad=$((bad + 1)); continue; }
  got=$(sha256sum < "$f" | cut -d' ' -f1)
  [ "$got" = "$sum" ] || { echo "  file $i: sha256 $got, fsync'd $sum"; bad=$((bad + 1)); }
done < ./fsynced.log
umount "$mnt"
[ $bad -eq 0 ] || fail "(b) $bad of $total fsync'd files not intact"
say "(b) fsck clean; all $total fsync'd files intact"

nvme disconnect -n "$nqn_a" >/dev/null || fail "disconnect $nqn_a"
nvme disconnect -n "$nqn_b" >/dev/null || fail "disconnect $nqn_b"
touch ./disconnected

# (a) every replica of the FUA volume, read directly from its own share.
listed() { [ -s "$share/replicas" ]; }
wait_for 180 "the host's list of shared replicas (./replicas)" listed
read_replicas "$share/replicas" || fail "(a) FUA blocks not intact on every replica"
say "(a) all $nfua FUA blocks intact on all $replicas_read replicas"
echo "PASS"

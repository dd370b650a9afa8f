#!/usr/bin/env bash
# Guest script (a kernel with CONFIG_NVME_HOST_AUTH, tools/vm-auth-kernel): the Linux host authenticates to our target
# with DH-HMAC-CHAP, one way and both ways; a wrong secret, no secret and a wrong controller secret are refused.
#   guest-dhchap.sh ADDRESS PORT SUBSYSTEM_NQN HOST_NQN HOST_SECRET CONTROLLER_SECRET WRONG_SECRET
set -u
addr=$1 port=$2 nqn=$3 hostnqn=$4 secret=$5 ctrl=$6 wrong=$7
say_dmesg() { dmesg | grep -i -E 'nvme|auth' | tail -25; }
fail() { echo "FAIL: $*"; say_dmesg; nvme disconnect -n "$nqn" >/dev/null 2>&1; exit 1; }
echo "kernel: $(uname -r)"
connect() { nvme connect -t tcp -a "$addr" -s "$port" -n "$nqn" --hostnqn="$hostnqn" -l 5 "$@" 2>&1; }
device() {
  local dev=
  for i in $(seq 1 40); do
    for s in /sys/class/nvme-subsystem/*; do
      [ "$(cat "$s/subsysnqn" 2>/dev/null)" = "$nqn" ] || continue
      dev=$(ls "$s" | grep -E '^nvme[0-9]+n[0-9]+$' | head -1)
    done
    [ -n "$dev" ] && break; sleep 0.5
  done
  echo "$dev"
}
check_data() {
  local dev=/dev/$1 seed=$2
  dd if=/dev/urandom of=/tmp/pattern bs=1M count=2 status=none
  dd if=/tmp/pattern of="$dev" bs=1M seek="$seed" oflag=direct status=none || return 1
  dd if="$dev" of=/tmp/readback bs=1M skip="$seed" count=2 iflag=direct status=none || return 1
  cmp /tmp/pattern /tmp/readback
}

out=$(connect --dhchap-secret="$secret") || fail "connect with the host's secret: $out"
dev=$(device); [ -n "$dev" ] || fail "no namespace block device after an authenticated connect"
check_data "$dev" 0 || fail "data through the authenticated connection"
echo "one-way: connected as $dev, 2 MiB written and read back identical"
nvme disconnect -n "$nqn" >/dev/null || fail "disconnect"

out=$(connect --dhchap-secret="$secret" --dhchap-ctrl-secret="$ctrl") || fail "connect both ways: $out"
dev=$(device); [ -n "$dev" ] || fail "no namespace block device after a bidirectional connect"
check_data "$dev" 4 || fail "data through the bidirectional connection"
echo "both ways: connected as $dev, 2 MiB written and read back identical"
nvme disconnect -n "$nqn" >/dev/null || fail "disconnect"

if out=$(connect --dhchap-secret="$wrong"); then fail "a wrong secret connected: $out"; fi
grep -qx "$nqn" /sys/class/nvme-subsystem/*/subsysnqn 2>/dev/null && fail "the subsystem appeared with a wrong secret"
echo "wrong secret: refused ($(echo "$out" | tail -1))"
if out=$(connect); then fail "no secret connected: $out"; fi
echo "no secret: refused ($(echo "$out" | tail -1))"
if out=$(connect --dhchap-secret="$secret" --dhchap-ctrl-secret="$wrong"); then fail "a wrong controller secret was accepted: $out"; fi
echo "wrong controller secret: refused ($(echo "$out" | tail -1))"
say_dmesg
echo "PASS"

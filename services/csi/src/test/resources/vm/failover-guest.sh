#!/usr/bin/env bash
# Guest script (linux-nvme-vm): the CSI node plugin with its path agent, a volume staged through it as a raw block
# device, and fio --verify=crc32c writing to it while the host kills the io-engine that serves the volume's target.
# Inputs in the shared folder: java.txt, classpath.txt, args.txt ("URI VOLUME AGENT_ADDRESS").
# Output: result.txt (PASS/FAIL lines and pause_ms=), plugin.log, stager.log, fio-write.log, fio-verify.log, lat logs.
set -u
share=/tmp/share
JAVA=$(cat "$share/java.txt")
CP=$(cat "$share/classpath.txt")
read -r uri vol agent < "$share/args.txt"
JOPTS="-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData -Xshare:auto"
mkdir -p /run/csi
echo "multipath=$(cat /sys/module/nvme_core/parameters/multipath 2>/dev/null)" | tee "$share/guest-info.txt"
start_plugin() {
  echo "guest: starting the node plugin (attempt $1)"
  "$JAVA" -Xmx256m $JOPTS -cp "$CP" io.javastor.csi.CsiApplication --javastor.csi.mode=node \
    --javastor.csi.endpoint=/run/csi/csi.sock --javastor.csi.node-name=vm-node --javastor.csi.core-agent-address="$agent" \
    --javastor.csi.path-check-interval=250ms --javastor.csi.path-fail-after=1s >>"$share/plugin.log" 2>&1 &
  plugin=$!
}
# As csi-node-guest.sh: a plugin JVM that dies before its socket is up (seen once under QEMU's emulation) gets one
# more start; a second death or no socket within 8 minutes fails.
attempt=1
start_plugin $attempt
deadline=$((SECONDS + 480))
while [ ! -S /run/csi/csi.sock ]; do
  if ! kill -0 "$plugin" 2>/dev/null; then
    if [ $attempt -ge 2 ]; then echo "FAIL node plugin did not start" > "$share/result.txt"; exit 1; fi
    attempt=$((attempt + 1)); start_plugin $attempt
  fi
  if [ $SECONDS -ge $deadline ]; then echo "FAIL no node plugin socket within 480 s" > "$share/result.txt"; exit 1; fi
  sleep 1
done
"$JAVA" -Xmx192m $JOPTS -cp "$CP" io.javastor.csi.vm.FailoverGuestStager /run/csi/csi.sock "$share" "$uri" "$vol" >"$share/stager.log" 2>&1
if [ $? -ne 0 ] || [ ! -s "$share/device.txt" ]; then echo "FAIL staging" > "$share/result.txt"; cat "$share/stager.log"; exit 1; fi
dev=$(cat "$share/device.txt")
echo "guest: staged at $dev; paths: $(ls /sys/class/nvme-subsystem/*/ | tr '\n' ' ')"
# One job, written with crc32c headers while the host kills the target, verified afterwards on its own. The rate
# keeps it writing for ~12 s or more (the emulation is slower than the rate: ~300 KiB/s); every completion's time goes to the lat log.
common=(--name=failover --filename="$dev" --ioengine=libaio --direct=1 --bs=4k --iodepth=4 --size=12M --rw=randwrite
        --verify=crc32c --randrepeat=1)
fio "${common[@]}" --do_verify=0 --rate=1m --write_lat_log="$share/lat" --log_avg_msec=0 --output="$share/fio-write.log" &
fio_pid=$!
# Tell the host once fio has completed writes for a while, so the kill lands in the middle of the run. fio writes
# its logs only at the end, and the multipath head keeps no I/O counters in this kernel: the paths' hidden devices
# (nvmeXcYnZ) do, field 5 of their sysfs stat. At most 20 s, then the host is told anyway.
writes() { cat /sys/block/nvme*c*n*/stat 2>/dev/null | awk '{ n += $5 } END { print n + 0 }'; }
for _ in $(seq 1 200); do
  n=$(writes)
  [ "$n" -ge 256 ] && break
  kill -0 "$fio_pid" 2>/dev/null || break
  sleep 0.1
done
echo "guest: $n writes completed on the paths; telling the host"
touch "$share/fio-writing"
wait "$fio_pid"; wrc=$?
grep -E "err=|error" "$share/fio-write.log" | head -5
if [ $wrc -eq 0 ] && grep -q "err= 0" "$share/fio-write.log"; then echo "PASS kill9-fio-zero-errors" >> "$share/result.txt"
else echo "FAIL kill9-fio-zero-errors (fio exit $wrc)" >> "$share/result.txt"; fi
fio "${common[@]}" --verify_only --output="$share/fio-verify.log"; vrc=$?
if [ $vrc -eq 0 ] && grep -q "err= 0" "$share/fio-verify.log"; then echo "PASS verify-only" >> "$share/result.txt"
else echo "FAIL verify-only (fio exit $vrc)" >> "$share/result.txt"; fi
# The longest gap between two completions: how long I/O paused for the failover; and, for reference from the same
# run, the 99th percentile of the gaps (what an ordinary gap is under this emulation and rate).
awk -F, 'NR > 1 { print $1 - prev } { prev = $1 }' "$share"/lat_clat.1.log | sort -n > "$share/gaps.txt"
echo "pause_ms=$(tail -1 "$share/gaps.txt")" >> "$share/result.txt"
echo "gap_p99_ms=$(awk '{ a[NR] = $1 } END { i = int(NR * 0.99); if (i < 1) i = 1; print a[i] }' "$share/gaps.txt")" >> "$share/result.txt"
echo "paths after: $(for c in /sys/class/nvme-subsystem/*/nvme*; do [ -d "$c" ] && echo "$(basename "$c")=$(cat "$c/state" 2>/dev/null)@$(cat "$c/address" 2>/dev/null)"; done)" >> "$share/guest-info.txt"
# The path agent's work: a live path to another port than the first one, and the dead path removed.
first_port=${uri##*:}; first_port=${first_port%%/*}
live_other=0; old_left=0
for c in /sys/class/nvme-subsystem/*/nvme*; do
  [ -f "$c/address" ] || continue
  a=$(cat "$c/address"); st=$(cat "$c/state")
  case "$a" in *"trsvcid=$first_port,"*|*"trsvcid=$first_port") old_left=1 ;; *) [ "$st" = live ] && live_other=1 ;; esac
done
if [ $live_other -eq 1 ] && [ $old_left -eq 0 ]; then echo "PASS path-moved" >> "$share/result.txt"
else echo "FAIL path-moved (live path elsewhere: $live_other, old path left: $old_left)" >> "$share/result.txt"; fi
kill "$plugin" 2>/dev/null; wait "$plugin" 2>/dev/null
cat "$share/result.txt"
grep -q FAIL "$share/result.txt" && exit 1
exit 0

#!/usr/bin/env bash
# Guest script (linux-nvme-vm): the CSI node plugin with its path agent, a volume staged through it as a raw block
# device, and, for each phase the host names, fio --verify=crc32c writing to it while the host does something to the
# volume's target (kill -9 its io-engine, drain its node, freeze it): then fio's errors, a verify-only pass and the
# longest gap between completions.
# Inputs in the shared folder: java.txt, classpath.txt, java-options.txt, agent.txt (the core agent's address), and args.txt ("URI VOLUME
# PHASE...", written by the host once the plugin registered this node as an app node and the volume was published to it). Per phase P it
# touches P-writing when fio is well under way and P-done when the phase is over (the host acts in between).
# Output: result.txt (PASS/FAIL lines, P pause_ms=, P gap_p99_ms=), plugin.log, stager.log, P-write.log, P-verify.log.
set -u
share=/tmp/share
JAVA=$(cat "$share/java.txt")
CP=$(cat "$share/classpath.txt")
agent=$(cat "$share/agent.txt")
# java-options.txt: the class archive the host made for this classpath (see NodePluginVmTest.writeGuestJava), if any
JOPTS="-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData -Xshare:auto $(cat "$share/java-options.txt" 2>/dev/null)"
mkdir -p /run/csi
echo "multipath=$(cat /sys/module/nvme_core/parameters/multipath 2>/dev/null)" | tee "$share/guest-info.txt"
start_plugin() {
  echo "guest: starting the node plugin (attempt $1)"
  "$JAVA" -Xmx256m $JOPTS -cp "$CP" io.javastor.csi.CsiApplication --javastor.csi.mode=node \
    --javastor.csi.endpoint=/run/csi/csi.sock --javastor.csi.node-name=vm-node --javastor.csi.core-agent-address="$agent" \
    --javastor.tls.ca-file="$share/tls/ca.crt" --javastor.tls.cert-file="$share/tls/csi-node.crt" --javastor.tls.key-file="$share/tls/csi-node.key" \
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
# The host publishes the volume once the plugin registered this node as an app node, then writes args.txt.
deadline=$((SECONDS + 900))
while [ ! -f "$share/args.txt" ]; do
  if ! kill -0 "$plugin" 2>/dev/null; then echo "FAIL node plugin exited before the host published" > "$share/result.txt"; exit 1; fi
  if [ $SECONDS -ge $deadline ]; then echo "FAIL no args.txt from the host within 900 s" > "$share/result.txt"; exit 1; fi
  sleep 1
done
read -r uri vol phases < "$share/args.txt"
"$JAVA" -Xmx192m $JOPTS -cp "$CP" io.javastor.csi.vm.FailoverGuestStager /run/csi/csi.sock "$share" "$uri" "$vol" >"$share/stager.log" 2>&1
if [ $? -ne 0 ] || [ ! -s "$share/device.txt" ]; then echo "FAIL staging" > "$share/result.txt"; cat "$share/stager.log"; exit 1; fi
dev=$(cat "$share/device.txt")
echo "guest: staged at $dev; paths: $(ls /sys/class/nvme-subsystem/*/ | tr '\n' ' ')"
# Each phase: one job written with crc32c headers (its own seed, so a stale copy of an earlier phase's data cannot
# pass) while the host acts, then verified on its own. The host acts after the first MiB; the rest keeps fio writing
# for 5 s or more at the rate (~20 s at the emulation's ~250 KiB/s), and a failover stalls its I/O, so fio cannot end
# before the failover is over; every completion's time goes to the lat log.
# fio writes its logs only at the end, and the multipath head keeps no I/O counters in this kernel: the paths' hidden
# devices (nvmeXcYnZ) do, field 5 of their sysfs stat.
writes() { cat /sys/block/nvme*c*n*/stat 2>/dev/null | awk '{ n += $5 } END { print n + 0 }'; }
i=0
for phase in $phases; do
  i=$((i + 1))
  common=(--name=failover --filename="$dev" --ioengine=libaio --direct=1 --bs=4k --iodepth=4 --size=6M --rw=randwrite
          --verify=crc32c --randrepeat=1 --randseed=$i)
  start=$(writes)
  fio "${common[@]}" --do_verify=0 --rate=1m --write_lat_log="$share/$phase-lat" --log_avg_msec=0 --output="$share/$phase-write.log" &
  fio_pid=$!
  # The host is told once fio has completed writes for a while (at most 20 s), so its action lands mid-run.
  for _ in $(seq 1 200); do
    n=$(writes)
    [ "$n" -ge $((start + 256)) ] && break
    kill -0 "$fio_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "guest: phase $phase: $((n - start)) writes completed on the paths; telling the host"
  touch "$share/$phase-writing"
  wait "$fio_pid"; wrc=$?
  grep -E "err=" "$share/$phase-write.log" | head -2
  if [ $wrc -eq 0 ] && grep -q "err= 0" "$share/$phase-write.log"; then echo "PASS $phase-fio-zero-errors" >> "$share/result.txt"
  else echo "FAIL $phase-fio-zero-errors (fio exit $wrc)" >> "$share/result.txt"; fi
  fio "${common[@]}" --verify_only --output="$share/$phase-verify.log"; vrc=$?
  if [ $vrc -eq 0 ] && grep -q "err= 0" "$share/$phase-verify.log"; then echo "PASS $phase-verify-only" >> "$share/result.txt"
  else echo "FAIL $phase-verify-only (fio exit $vrc)" >> "$share/result.txt"; fi
  # The longest gap between two completions (the I/O pause) and, for reference, the 99th percentile of the gaps.
  awk -F, 'NR > 1 { print $1 - prev } { prev = $1 }' "$share/$phase-lat_clat.1.log" | sort -n > "$share/$phase-gaps.txt"
  echo "$phase pause_ms=$(tail -1 "$share/$phase-gaps.txt")" >> "$share/result.txt"
  echo "$phase gap_p99_ms=$(awk '{ a[NR] = $1 } END { i = int(NR * 0.99); if (i < 1) i = 1; print a[i] }' "$share/$phase-gaps.txt")" >> "$share/result.txt"
  echo "$phase paths: $(for c in /sys/class/nvme-subsystem/*/nvme*; do [ -f "$c/address" ] && echo "$(basename "$c")=$(cat "$c/state")@$(cat "$c/address")"; done)" >> "$share/guest-info.txt"
  touch "$share/$phase-done"
done
# The path agent's work: the subsystem has exactly one path left, live, and not the first one. The dead ones usually
# go within a second, but the kernel deletes a controller only once the work it has in progress ends: in CI on
# 2026-12-07 the path to the sigstop phase's old target (frozen when the agent removed it) took over 50 s (`nvme
# disconnect` blocked 53 s; the path was still there after the 20 s this loop then allowed). Give it 90.
first_port=${uri##*:}; first_port=${first_port%%/*}
for _ in $(seq 1 180); do
  paths=0; live=0; first_left=0
  for c in /sys/class/nvme-subsystem/*/nvme*; do
    [ -f "$c/address" ] || continue
    paths=$((paths + 1)); [ "$(cat "$c/state")" = live ] && live=$((live + 1))
    case "$(cat "$c/address")" in *"trsvcid=$first_port,"*|*"trsvcid=$first_port") first_left=1 ;; esac
  done
  [ $paths -eq 1 ] && [ $live -eq 1 ] && [ $first_left -eq 0 ] && break
  sleep 0.5
done
echo "final paths: $(for c in /sys/class/nvme-subsystem/*/nvme*; do [ -f "$c/address" ] && echo "$(basename "$c")=$(cat "$c/state")@$(cat "$c/address")"; done)" >> "$share/guest-info.txt"
if [ $paths -eq 1 ] && [ $live -eq 1 ] && [ $first_left -eq 0 ]; then echo "PASS paths-clean" >> "$share/result.txt"
else echo "FAIL paths-clean (paths $paths, live $live, first path left $first_left)" >> "$share/result.txt"; fi
kill "$plugin" 2>/dev/null; wait "$plugin" 2>/dev/null
cat "$share/result.txt"
grep -q FAIL "$share/result.txt" && exit 1
exit 0

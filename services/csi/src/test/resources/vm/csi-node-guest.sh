#!/usr/bin/env bash
# Guest script (linux-nvme-vm): runs the CSI node plugin and the scenario driver inside the VM.
# Inputs in the shared folder: java.txt (java binary), classpath.txt, java-options.txt, agent.txt (the core agent's address: the plugin
# registers this node there and gets its DH-HMAC-CHAP secrets from it), tls/ (the csi-node certificate), and, once the
# host published the volumes to the registered node, args.txt (driver arguments).
# Output: result.txt (PASS/FAIL lines per scenario), plugin.log, driver.log.
set -u
share=/tmp/share
JAVA=$(cat "$share/java.txt")
CP=$(cat "$share/classpath.txt")
# java-options.txt: the class archive the host made for this classpath (see NodePluginVmTest.writeGuestJava), if any
JOPTS="-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData -Xshare:auto $(cat "$share/java-options.txt" 2>/dev/null)"
mkdir -p /run/csi
echo "guest: kernel $(uname -r)"
# filesystems for the guest kernel (see guest-fs-modules.sh); an already loaded or built-in one answers EEXIST
if [ -f "$share/modules/order.txt" ]; then
  while read -r m; do insmod "$share/modules/$m" 2>/dev/null || echo "guest: insmod $m: not loaded (built in or present)"; done < "$share/modules/order.txt"
fi
grep -E 'ext4|xfs|btrfs' /proc/filesystems
start_plugin() {
  echo "guest: starting the node plugin (attempt $1)"
  "$JAVA" -Xmx256m $JOPTS -cp "$CP" io.javastor.csi.CsiApplication --javastor.csi.mode=node \
    --javastor.csi.endpoint=/run/csi/csi.sock --javastor.csi.node-name=vm-node --javastor.csi.core-agent-address="$(cat "$share/agent.txt")" \
    --javastor.tls.ca-file="$share/tls/ca.crt" --javastor.tls.cert-file="$share/tls/csi-node.crt" --javastor.tls.key-file="$share/tls/csi-node.key" \
    >>"$share/plugin.log" 2>&1 &
  plugin=$!
}
# The driver starts once the plugin's socket is up. A plugin JVM that dies before that is started once more, and
# said so: seen once in CI, the JVM crashed (SIGSEGV in its own JIT-compiled class-loading code) under QEMU's
# software emulation, before any of our code ran. A second death, or no socket within 8 minutes, fails the test.
attempt=1
start_plugin $attempt
deadline=$((SECONDS + 480))
while [ ! -S /run/csi/csi.sock ]; do
  if ! kill -0 "$plugin" 2>/dev/null; then
    wait "$plugin"; prc=$?
    echo "guest: the node plugin exited ($prc) before its socket appeared:"; grep -m3 -E "SIGSEGV|Problematic frame|^# J |ERROR" "$share/plugin.log"
    if [ $attempt -ge 2 ]; then echo "FAIL node plugin did not start" > "$share/result.txt"; cat "$share/result.txt"; exit 1; fi
    attempt=$((attempt + 1)); start_plugin $attempt
  fi
  if [ $SECONDS -ge $deadline ]; then echo "FAIL no node plugin socket within 480 s" > "$share/result.txt"; cat "$share/result.txt"; exit 1; fi
  sleep 1
done
# The host publishes the volumes once the plugin registered this node as an app node (the controller publishes only
# to registered nodes), then writes their URIs to args.txt.
deadline=$((SECONDS + 900))
while [ ! -f "$share/args.txt" ]; do
  if ! kill -0 "$plugin" 2>/dev/null; then echo "FAIL node plugin exited before the host published" > "$share/result.txt"; cat "$share/result.txt"; exit 1; fi
  if [ $SECONDS -ge $deadline ]; then echo "FAIL no args.txt from the host within 900 s" > "$share/result.txt"; cat "$share/result.txt"; exit 1; fi
  sleep 1
done
echo "guest: starting the driver"
# shellcheck disable=SC2046
"$JAVA" -Xmx192m $JOPTS -cp "$CP" io.javastor.csi.vm.GuestNodeDriver /run/csi/csi.sock "$share" $(cat "$share/args.txt") >"$share/driver.log" 2>&1
rc=$?
kill "$plugin" 2>/dev/null; wait "$plugin"
echo "guest: driver exited $rc"
cat "$share/result.txt" 2>/dev/null
exit $rc

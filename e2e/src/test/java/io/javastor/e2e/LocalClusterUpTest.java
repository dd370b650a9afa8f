package io.javastor.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.ioengine.nvmf.auth.DhchapKeys;
import io.javastor.ioengine.nvmf.host.NvmfBlockDevice;
import io.javastor.ioengine.nvmf.host.NvmfHostOptions;
import io.javastor.testsupport.JavaProcess;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import tools.jackson.databind.JsonNode;

/**
 * {@code ./javastor up} on a cluster that partly runs, the README's way to bring back a component that died (issue 19):
 * one cluster, started once; then, in turn, nothing killed, each component killed with {@code kill -9} (etcd, the core
 * agent, the REST gateway, the CSI controller, an io-engine) and the core agent with etcd together (the case that
 * used to delete the running CSI controller's socket and wait 300 s for a health check that could not pass). After
 * each {@code up}: it printed one line per component, "started" for what was killed and "running" for the rest; what
 * ran has the same pid and is alive; {@code ./javastor status} passes every health check (the CSI controller's a real
 * Identity/Probe over its socket); the control plane creates, publishes and deletes a volume; and a volume published
 * before the first kill still serves the data written to it, read through our NVMe/TCP host with the DH-HMAC-CHAP
 * secrets the cluster gave it.
 *
 * <p>Uses the local cluster's fixed ports, like {@link LocalClusterEndToEndTest}: it runs with the VM tests
 * ({@code -Djavastor.vm=true}, which run under the machine-wide lock), though it boots no VM.
 */
@Tag("vm")
@EnabledIfSystemProperty(named = "javastor.vm", matches = "true",
        disabledReason = "local-cluster test on fixed ports: run with -Djavastor.vm=true (./javastor test does)")
class LocalClusterUpTest {
    private static final List<String> COMPONENTS = List.of("etcd", "core-agent", "rest-gateway", "csi-controller", "node-1", "node-2",
            "node-3");
    /** What is killed before each `up`, in order: nothing first, then each component, then the reported pair. */
    private static final List<List<String>> CASES = List.of(List.of(), List.of("etcd"), List.of("core-agent"), List.of("rest-gateway"),
            List.of("csi-controller"), List.of("node-3"), List.of("core-agent", "etcd"));
    private static final Pattern DID = Pattern.compile("(?m)^(\\S+)\\s+(running|started)\\s+pid (\\d+)$");
    private static final String HOST_NODE = "e2e-up-host";
    private static final int BLOCK = 4096;

    private final List<String> timeline = new ArrayList<>();
    private final Instant t0 = Instant.now();

    private void mark(String what) {
        String line = String.format("+%4d s  %s", Duration.between(t0, Instant.now()).toSeconds(), what);
        timeline.add(line);
        System.out.println("E2E " + line);
    }

    @Test
    void upStartsOnlyWhatIsMissingLeavesWhatRunsAloneAndSaysWhichItDid(@TempDir Path tmp) throws Exception {
        Path root = Path.of(System.getProperty("javastor.root", "..")).toAbsolutePath().normalize();
        LocalCluster cluster = new LocalCluster(root, tmp.resolve("javastor"));
        boolean passed = false;
        try {
            LocalCluster.Run first = cluster.javastor(Duration.ofMinutes(10), "up");
            assertThat(first.exitCode()).as("./javastor up on nothing").isZero();
            assertThat(did(first.output())).as("a fresh cluster: everything started").containsOnlyKeys(COMPONENTS)
                    .allSatisfy((name, how) -> assertThat(how).as(name).isEqualTo("started"));
            mark("./javastor up from nothing: " + first.took().toSeconds() + " s");
            mapsTheTestsClassArchives(root, cluster);

            // A volume that lives through every case, written once through the NVMe/TCP target.
            String uuid = UUID.randomUUID().toString();
            cluster.ok(cluster.put("/v0/volumes/" + uuid, volumeSpec(64L << 20)), "create volume");
            JsonNode published = cluster.ok(cluster.put("/v0/volumes/" + uuid + "/target",
                    "{\"protocol\":\"nvmf\",\"publish_context\":{},\"node\":\"node-1\",\"frontend_node\":\"" + HOST_NODE + "\"}"), "publish");
            String deviceUri = published.path("state").path("target").path("deviceUri").asString();
            NvmfHostOptions host = hostOptions(cluster.hostConnectOptions(uuid, HOST_NODE));
            writeBlock(deviceUri, host, 0, 0x40);
            mark("volume " + uuid + " published at " + deviceUri + ", block 0 written");

            for (int i = 0; i < CASES.size(); i++) {
                List<String> victims = CASES.get(i);
                Map<String, Long> before = pids(cluster);
                for (String v : victims) {
                    kill9(cluster, v, before.get(v));
                }
                LocalCluster.Run up = cluster.javastor(Duration.ofMinutes(6), "up");
                assertThat(up.exitCode()).as("./javastor up after killing " + victims).isZero();
                Map<String, String> did = did(up.output());
                Map<String, Long> after = pids(cluster);
                assertThat(did).as("one line per component").containsOnlyKeys(COMPONENTS);
                for (String c : COMPONENTS) {
                    if (victims.contains(c)) {
                        assertThat(did.get(c)).as(c + " was killed").isEqualTo("started");
                        assertThat(after.get(c)).as(c + "'s new pid").isNotEqualTo(before.get(c));
                    } else {
                        assertThat(did.get(c)).as(c + " ran").isEqualTo("running");
                        assertThat(after.get(c)).as(c + " untouched: same pid").isEqualTo(before.get(c));
                    }
                    assertThat(ProcessHandle.of(after.get(c)).map(ProcessHandle::isAlive)).as(c + " alive").contains(true);
                }
                LocalCluster.Run status = cluster.javastor(Duration.ofMinutes(1), "status");
                assertThat(status.exitCode()).as("./javastor status: every health check passes").isZero();
                assertThat(status.output()).contains("csi-controller  UP");
                servesVolumes(cluster, deviceUri, host, i + 1);
                mark("killed " + (victims.isEmpty() ? "nothing" : String.join(" + ", victims)) + ": ./javastor up took "
                        + up.took().toSeconds() + " s, started " + victims + ", the rest untouched; health checks pass, volumes served");
            }
            passed = true;
        } finally {
            cluster.finish(passed, timeline, null);
        }
    }

    /**
     * A first `up` after the modules' tests starts its JVMs from the class archives those tests trained for the same
     * jars (test-support's AppCds, whole once its stamp names the jar's SHA-256), instead of cold, recording its own at
     * the first `down`. Checked for each component whose jar has such an archive; the others are named as not checked.
     */
    private void mapsTheTestsClassArchives(Path root, LocalCluster cluster) throws Exception {
        Map<String, String> modules = Map.of("core-agent", "services/core-agent", "rest-gateway", "services/rest-gateway", "node-1", "io-engine-jni");
        for (var e : new TreeMap<>(modules).entrySet()) {
            Path jar;
            try (var jars = Files.newDirectoryStream(root.resolve(e.getValue()).resolve("target"), "*-exec.jar")) {
                jar = jars.iterator().next();
            }
            Optional<Path> archive = JavaProcess.classArchiveOf(jar);
            if (archive.isEmpty()) {
                System.out.println("E2E not checked: " + e.getKey() + "'s JVM maps the tests' class archive (no whole archive of "
                        + jar.getFileName() + ": the modules' tests did not run in this tree)");
                continue;
            }
            String maps = Files.readString(Path.of("/proc", Long.toString(cluster.pid(e.getKey())), "maps"));
            assertThat(maps).as(e.getKey() + " maps the class archive the tests trained for its jar").contains(archive.get().toString());
            mark(e.getKey() + " started from the tests' class archive " + archive.get());
        }
    }

    /** The "NAME running|started pid N" lines of an `up`. */
    private static Map<String, String> did(String output) {
        Map<String, String> out = new TreeMap<>();
        Matcher m = DID.matcher(output);
        while (m.find()) {
            assertThat(out.put(m.group(1), m.group(2))).as("one line for " + m.group(1)).isNull();
        }
        return out;
    }

    private static Map<String, Long> pids(LocalCluster cluster) throws Exception {
        Map<String, Long> out = new HashMap<>();
        for (String c : COMPONENTS) {
            out.put(c, cluster.pid(c));
        }
        return out;
    }

    private void kill9(LocalCluster cluster, String name, long pid) throws Exception {
        Process kill = new ProcessBuilder("kill", "-9", Long.toString(pid)).inheritIO().start();
        assertThat(kill.waitFor()).as("kill -9 " + name + " " + pid).isZero();
        // Gone, and the supervisor saw it: what `up` finds is a dead component, not one that is dying.
        await(name + " (pid " + pid + ") gone").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> cluster.read("supervisor.log").contains(name + " pid " + pid + " exited (code 137, signal 9)"));
    }

    /**
     * The control plane makes, publishes and deletes a volume; the long-lived volume reads back what the previous case
     * wrote and takes this case's mark.
     */
    private static void servesVolumes(LocalCluster cluster, String deviceUri, NvmfHostOptions host, int round) throws Exception {
        String uuid = UUID.randomUUID().toString();
        JsonNode created = cluster.ok(cluster.put("/v0/volumes/" + uuid, volumeSpec(16L << 20)), "create a volume");
        assertThat(created.path("state").path("status").asString()).as("new volume").isEqualTo("Online");
        JsonNode published = cluster.ok(cluster.put("/v0/volumes/" + uuid + "/target",
                "{\"protocol\":\"nvmf\",\"publish_context\":{},\"node\":\"node-2\",\"frontend_node\":\"" + HOST_NODE + "\"}"), "publish it");
        assertThat(published.path("state").path("target").path("deviceUri").asString()).startsWith("nvmf://");
        assertThat(cluster.delete("/v0/volumes/" + uuid).status()).as("delete it").isIn(200, 204);

        int expected = 0x40 + round - 1;
        ByteBuffer back = readBlock(deviceUri, host, 0);
        assertThat(back.get(0) & 0xFF).as("the long-lived volume's block 0").isEqualTo(expected);
        assertThat(back.get(BLOCK - 1) & 0xFF).isEqualTo(expected);
        writeBlock(deviceUri, host, 0, 0x40 + round);
    }

    private static String volumeSpec(long bytes) {
        return "{\"size\":" + bytes + ",\"replicas\":3,\"thin\":true,\"policy\":{\"self_heal\":true}}";
    }

    /** Our host's options from `./javastor host-secrets`: --hostnqn, --hostid and the DH-HMAC-CHAP pair. */
    private static NvmfHostOptions hostOptions(String options) {
        Map<String, String> o = new HashMap<>();
        for (String part : options.strip().split("\\s+")) {
            int eq = part.indexOf('=');
            o.put(part.substring(2, eq), part.substring(eq + 1));
        }
        return NvmfHostOptions.defaults(o.get("hostnqn")).withHostId(UUID.fromString(o.get("hostid")))
                .withDhchap(DhchapKeys.parse(o.get("dhchap-secret"), o.get("dhchap-ctrl-secret")))
                .withReconnectDeadline(Duration.ofSeconds(60));
    }

    private static void writeBlock(String uri, NvmfHostOptions host, long offset, int fill) {
        ByteBuffer b = DmaBuffers.allocate(BLOCK);
        for (int i = 0; i < BLOCK; i++) {
            b.put(i, (byte) fill);
        }
        try (NvmfBlockDevice dev = NvmfBlockDevice.connect(uri, host)) {
            dev.writeFua(offset, b).join();
        }
    }

    private static ByteBuffer readBlock(String uri, NvmfHostOptions host, long offset) {
        ByteBuffer b = DmaBuffers.allocate(BLOCK);
        try (NvmfBlockDevice dev = NvmfBlockDevice.connect(uri, host)) {
            dev.read(offset, b).join();
        }
        return b;
    }
}

package io.javastor.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import io.grpc.ManagedChannel;
import io.javastor.api.tls.ClusterPeer;
import io.javastor.api.tls.ClusterTls;
import io.javastor.testsupport.IoEngineStubs;
import io.javastor.api.ioengine.v1.ListPoolsRequest;
import io.javastor.api.ioengine.v1.ListReplicasRequest;
import io.javastor.api.ioengine.v1.Replica;
import io.javastor.api.ioengine.v1.ShareProtocol;
import io.javastor.api.ioengine.v1.ShareReplicaRequest;
import tools.jackson.databind.JsonNode;

/**
 * Issue 13's durability with the Linux kernel's initiator, when the node that dies is the target's own: two thin
 * 3-replica volumes published on node-1 and connected from the VM with {@code --ctrl-loss-tmo=-1}:
 * <ul>
 * <li>(a) 16 {@code nvme write --force-unit-access} (no Flush) of a distinct 4 KiB block each into a fresh cluster of
 * volume A; the moment the last is acknowledged, node-1's io-engine (nexus and a replica) gets {@code kill -9};</li>
 * <li>(b) ext4 on volume B, files written and fsync'd (file, then directory) in a loop that runs across the kill;
 * the guest records a file only after its fsyncs returned.</li>
 * </ul>
 * While node-1 is down, volume A's two surviving replicas are shared to the guest on their own nodes (io-engine gRPC)
 * and every FUA block is read from each directly: their own copies, as the dead nexus left them (after a crash the
 * agent starts the target from its own node's replica and rebuilds the others from it in full, so this is the only
 * look at them). node-1 starts again ({@code ./javastor add-node 1}: its engine imports pool-1 from the disk as it
 * starts, and the pool spec exists, so nothing is created afresh), the core agent re-creates both targets at the same
 * address (event TargetRecreated), the nexuses rebuild the others and are Online with three Online children; the
 * kernel reconnects by itself.
 * Then: every FUA block reads back through volume A; {@code fsck.ext4 -n -f} of volume B is clean and every fsync'd
 * file is intact; volume A is unpublished, each of its three replicas shared on its own node (io-engine gRPC) and read
 * directly from the VM: every FUA block is intact on every replica.
 *
 * <p>Uses the local cluster's fixed ports, like LocalClusterEndToEndTest. Run with -Djavastor.vm=true.
 */
@Tag("vm")
@EnabledIfSystemProperty(named = "javastor.vm", matches = "true",
        disabledReason = "end-to-end test (local cluster + kernel initiator VM): run with -Djavastor.vm=true (./javastor test does)")
class NexusCrashDurabilityVmTest {

    private static final String NEXUS_NODE = "node-1";
    /** The guest, as the host the volumes are published to (REST frontend_node): the only host their targets admit. */
    private static final String GUEST_NODE = "e2e-guest";
    private static final int FUA_WRITES = 16;
    private static final int FILES_BEFORE_KILL = 20;
    private static final long FS_VOLUME_BYTES = 128L << 20;
    private static final Pattern IMPORTED_AT_START = Pattern.compile("PoolImportOnStart node=node-1 pool=pool-1 .* imported at start");

    private final List<String> timeline = new ArrayList<>();
    private final Instant t0 = Instant.now();

    private void mark(String what) {
        String line = String.format("+%4d s  %s", Duration.between(t0, Instant.now()).toSeconds(), what);
        timeline.add(line);
        System.out.println("E2E " + line);
    }

    /** The core agent's certificate of the running local cluster: the io-engines serve no one else. */
    private static ClusterTls engineTls;

    private static int grpcPort(String node) {
        return 10123 + Integer.parseInt(node.substring("node-".length()));
    }

    @Test
    void fuaWritesAndFsyncedFilesSurviveKill9OfTheTargetsIoEngine(@TempDir Path tmp) throws Exception {
        GuestVm.tools(); // skips, saying why, without the harness
        Path root = Path.of(System.getProperty("javastor.root", "..")).toAbsolutePath().normalize();
        LocalCluster cluster = new LocalCluster(root, tmp.resolve("javastor"));
        engineTls = cluster.coreAgentTls();
        GuestVm vm = null;
        boolean passed = false;
        try {
            LocalCluster.Run up = cluster.javastor(Duration.ofMinutes(10), "up");
            assertThat(up.exitCode()).as("./javastor up exit code").isZero();
            mark("./javastor up");

            // Cluster size of the pools: the FUA volume gets one cluster per FUA write (all fresh: never written).
            long cluster0 = 0;
            for (String node : List.of("node-1", "node-2", "node-3")) {
                long cs = engine(node, api -> api.pools().listPools(ListPoolsRequest.getDefaultInstance()).getPools(0).getClusterSize());
                assertThat(cs).as("cluster size of " + node + "'s pool").isPositive();
                assertThat(cluster0 == 0 || cs == cluster0).as("pools have one cluster size: " + cs + " vs " + cluster0).isTrue();
                cluster0 = cs;
            }
            long clusterSize = cluster0;
            long fuaVolumeBytes = FUA_WRITES * clusterSize;

            String fuaVolume = UUID.randomUUID().toString();
            String fsVolume = UUID.randomUUID().toString();
            Map<String, String> fuaReplicas = createAndPublish(cluster, fuaVolume, fuaVolumeBytes);
            createAndPublish(cluster, fsVolume, FS_VOLUME_BYTES);
            String uriA = target(cluster, fuaVolume).path("deviceUri").asString();
            String uriB = target(cluster, fsVolume).path("deviceUri").asString();
            Matcher a = Pattern.compile("nvmf://127\\.0\\.0\\.1:(\\d+)/(nqn\\.[^/]+)").matcher(uriA);
            Matcher b = Pattern.compile("nvmf://127\\.0\\.0\\.1:(\\d+)/(nqn\\.[^/]+)").matcher(uriB);
            assertThat(a.matches()).as("deviceUri " + uriA).isTrue();
            assertThat(b.matches()).as("deviceUri " + uriB).isTrue();
            assertThat(b.group(1)).as("both targets on node-1's port").isEqualTo(a.group(1));
            mark("volumes published on " + NEXUS_NODE + ": FUA volume " + fuaVolume + " (" + FUA_WRITES + " clusters of " + clusterSize
                    + " B, replicas " + fuaReplicas + ") at " + uriA + "; ext4 volume " + fsVolume + " at " + uriB);

            for (var r : fuaReplicas.entrySet()) {
                assertThat(allocated(r.getValue(), r.getKey())).as("bytes allocated to replica " + r.getKey() + " on " + r.getValue()
                        + " before the FUA writes (fresh clusters)").isZero();
            }
            // The guest connects to both as the host they are published to, each with its pair (./javastor host-secrets).
            GuestVm.connectOptions(tmp, a.group(2), cluster.hostConnectOptions(fuaVolume, GUEST_NODE));
            GuestVm.connectOptions(tmp, b.group(2), cluster.hostConnectOptions(fsVolume, GUEST_NODE));
            String modules = GuestKernelModules.prepare(tmp, "ext4", "crc32c_generic");
            vm = GuestVm.start(tmp, "guest-crash-durability.sh", 1200, GuestVm.HOST_FROM_GUEST, a.group(1), a.group(2), b.group(2),
                    Long.toString(clusterSize), Integer.toString(FUA_WRITES), Integer.toString(FILES_BEFORE_KILL), "600", modules);
            GuestVm guest = vm;
            await("the guest's " + FUA_WRITES + " FUA writes acknowledged, after " + FILES_BEFORE_KILL + " fsync'd files")
                    .atMost(Duration.ofMinutes(8)).pollInterval(Duration.ofMillis(50)).until(() -> {
                        if (!guest.alive() || guest.marker("failed")) {
                            throw new AssertionError("the VM stopped before its FUA writes were acknowledged:\n" + guest.output());
                        }
                        return guest.marker("fua-acked");
                    });
            long seen = System.nanoTime();
            long pid = cluster.pid(NEXUS_NODE);
            // SIGKILL straight from here (ProcessHandle.destroyForcibly is kill -9 on Linux): no process to fork first.
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::destroyForcibly).orElse(false)).as("kill -9 " + pid).isTrue();
            long killMs = (System.nanoTime() - seen) / 1_000_000;
            mark("FUA writes acknowledged; kill -9 " + NEXUS_NODE + " (pid " + pid + ") " + killMs + " ms after the marker was seen, the ext4 loop at "
                    + fsyncedFiles(tmp) + " fsync'd files");
            await("the supervisor reports " + NEXUS_NODE + "'s death").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                    .until(() -> cluster.read("supervisor.log").contains(NEXUS_NODE + " pid " + pid + " exited (code 137, signal 9)"));

            // The surviving replicas as the dead nexus left them: after a crash the agent starts the target from its own
            // node's replica and rebuilds the others from it, so this is the only look at their own copies.
            StringBuilder survivors = new StringBuilder();
            for (var r : fuaReplicas.entrySet()) {
                if (!r.getValue().equals(NEXUS_NODE)) {
                    survivors.append(shareForGuest(r.getValue(), r.getKey()));
                }
            }
            for (var r : fuaReplicas.entrySet()) {
                if (!r.getValue().equals(NEXUS_NODE)) {
                    assertThat(allocated(r.getValue(), r.getKey())).as("bytes allocated to replica " + r.getKey() + " on " + r.getValue()
                            + " after the " + FUA_WRITES + " FUA writes: one cluster each").isEqualTo(FUA_WRITES * clusterSize);
                }
            }
            publish(tmp, "survivors", survivors.toString());
            await("the guest reads the FUA blocks from the surviving replicas").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500))
                    .until(() -> {
                        if (!guest.alive() || guest.marker("failed")) {
                            throw new AssertionError("the VM stopped reading the surviving replicas:\n" + guest.output());
                        }
                        return guest.marker("survivors-read");
                    });
            mark("guest: all " + FUA_WRITES + " FUA blocks intact on the surviving replicas, read directly while the target was down:\n"
                    + survivors.toString().strip());

            // node-1 again, as ./javastor starts a node: its pool spec exists (PUT is a no-op), the agent imports the pool.
            LocalCluster.Run again = cluster.javastor(Duration.ofMinutes(5), "add-node", "1");
            assertThat(again.exitCode()).as("./javastor add-node 1 (restart of node-1) exit code").isZero();
            mark(NEXUS_NODE + " started again (" + again.took().toSeconds() + " s)");
            // The engine imports the pools of its --javastor.io-engine.disks as it starts (PoolImportOnStart); the agent's
            // PoolImportReconciler would import it otherwise. Either way: imported from the disk, never created afresh.
            await("pool-1 Online again, imported from its disk").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                    .until(() -> "Online".equals(poolStatus(cluster, "pool-1"))
                            && (IMPORTED_AT_START.matcher(cluster.read("node-1.log")).find() || events(cluster, "pool-1", "PoolImported") >= 1));
            assertThat(events(cluster, "pool-1", "PoolCreated")).as("pool-1 created once, at ./javastor up").isEqualTo(1);
            await("events TargetRecreated for both volumes").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500))
                    .until(() -> events(cluster, fuaVolume, "TargetRecreated") >= 1 && events(cluster, fsVolume, "TargetRecreated") >= 1);
            mark("pool-1 imported; targets re-created: " + eventDetails(cluster, fuaVolume, "TargetRecreated") + " | "
                    + eventDetails(cluster, fsVolume, "TargetRecreated"));
            try (NexusProbe nexusA = new NexusProbe(engineTls, NEXUS_NODE, grpcPort(NEXUS_NODE), fuaVolume);
                 NexusProbe nexusB = new NexusProbe(engineTls, NEXUS_NODE, grpcPort(NEXUS_NODE), fsVolume)) {
                String anyReplica = fuaReplicas.keySet().iterator().next();
                await("both nexuses Online with 3 Online children (rebuilds done)").atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1))
                        .until(() -> {
                            if (!guest.alive() || guest.marker("failed")) {
                                throw new AssertionError("the VM stopped during the recovery:\n" + guest.output());
                            }
                            return nexusA.onlineWith(anyReplica) && nexusB.nexus().getChildrenCount() == 3
                                    && nexusB.nexus().getChildrenList().stream().allMatch(c -> c.getState().name().equals("CHILD_STATE_ONLINE"))
                                    && nexusB.nexus().getState().name().equals("NEXUS_STATE_ONLINE");
                        });
                mark("nexus A " + nexusA.describe() + "; nexus B " + nexusB.describe());
            }
            await("both volumes Online in REST at their old address").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> "Online".equals(volume(cluster, fuaVolume).path("state").path("status").asString())
                            && "Online".equals(volume(cluster, fsVolume).path("state").path("status").asString()));
            assertThat(target(cluster, fuaVolume).path("deviceUri").asString()).isEqualTo(uriA);
            assertThat(target(cluster, fsVolume).path("deviceUri").asString()).isEqualTo(uriB);
            vm.signal("recovered");
            mark("both volumes Online at their old addresses: ./recovered");

            // The guest checks through the volumes, then disconnects; every replica of A is then read on its own.
            await("the guest's checks through the volumes, then its disconnect").atMost(Duration.ofMinutes(8)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> {
                        if (!guest.alive() || guest.marker("failed")) {
                            throw new AssertionError("the VM stopped before reading the replicas:\n" + guest.output());
                        }
                        return guest.marker("disconnected");
                    });
            mark("guest: FUA blocks intact through volume A, fsck clean and fsync'd files intact on volume B; disconnected");
            LocalCluster.Answer unpublished = cluster.delete("/v0/volumes/" + fuaVolume + "/target");
            assertThat(unpublished.status()).as("unpublish " + fuaVolume + ": " + unpublished.body()).isBetween(200, 299);
            StringBuilder list = new StringBuilder();
            for (var r : fuaReplicas.entrySet()) {
                list.append(shareForGuest(r.getValue(), r.getKey()));
            }
            publish(tmp, "replicas", list.toString());
            mark("volume A unpublished; its replicas shared for the guest:\n" + list.toString().strip());

            int exit = vm.await(600);
            String out = vm.output();
            System.out.println("---- VM output ----\n" + out + "\n---- console tail ----\n" + vm.consoleTail());
            mark("guest finished, exit " + exit + "; " + fsyncedFiles(tmp) + " files fsync'd in all");
            assertThat(exit).as("guest exit code (-1: did not finish in time)").isZero();
            assertThat(out.lines()).as("guest output").contains("PASS");
            assertThat(out).contains("all " + FUA_WRITES + " FUA blocks intact on all 3 replicas");
            passed = true;
        } finally {
            cluster.finish(passed, timeline, vm);
        }
    }

    /** Shares a replica over NVMe-oF to any host (the guest), on its own node; its "NODE PORT NQN" line for the guest. */
    private static String shareForGuest(String node, String replica) throws InterruptedException {
        Replica shared = engine(node, api -> api.replicas().shareReplica(ShareReplicaRequest.newBuilder().setUuid(replica)
                .setProtocol(ShareProtocol.SHARE_PROTOCOL_NVMF).build()));
        Matcher m = Pattern.compile("nvmf://127\\.0\\.0\\.1:(\\d+)/(nqn\\.[^/]+)").matcher(shared.getUri());
        assertThat(m.matches()).as("share uri of replica " + replica + " on " + node + ": " + shared.getUri()).isTrue();
        assertThat(shared.getAllowedHostsList()).as("allowed hosts of replica " + replica + " shared for the guest").isEmpty();
        return node + " " + m.group(1) + " " + m.group(2) + "\n";
    }

    /** Bytes of clusters a replica has allocated, from its node's io-engine. */
    private static long allocated(String node, String replica) throws InterruptedException {
        List<Replica> list = engine(node, api -> api.replicas().listReplicas(ListReplicasRequest.newBuilder().setUuid(replica).build()).getReplicasList());
        assertThat(list).as("replica " + replica + " on " + node).hasSize(1);
        return list.get(0).getAllocated();
    }

    /** A file for the guest in the shared folder, whole when it appears. */
    private static void publish(Path tmp, String name, String text) throws java.io.IOException {
        Path part = tmp.resolve("share").resolve(name + ".tmp");
        Files.writeString(part, text);
        Files.move(part, tmp.resolve("share").resolve(name), StandardCopyOption.ATOMIC_MOVE);
    }

    /** Creates a thin 3-replica volume and publishes it on node-1; returns replica uuid -> node. */
    private Map<String, String> createAndPublish(LocalCluster cluster, String uuid, long bytes) throws Exception {
        JsonNode created = cluster.ok(cluster.put("/v0/volumes/" + uuid,
                "{\"size\":" + bytes + ",\"replicas\":3,\"thin\":true,\"policy\":{\"self_heal\":true}}"), "create volume " + uuid);
        assertThat(created.path("state").path("status").asString()).isEqualTo("Online");
        Map<String, String> replicas = new LinkedHashMap<>();
        for (var e : created.path("state").path("replica_topology").properties()) {
            replicas.put(e.getKey(), e.getValue().path("node").asString());
        }
        assertThat(replicas.values()).as("replica nodes of " + uuid).containsExactlyInAnyOrder("node-1", "node-2", "node-3");
        cluster.ok(cluster.put("/v0/volumes/" + uuid + "/target",
                "{\"protocol\":\"nvmf\",\"publish_context\":{},\"node\":\"" + NEXUS_NODE + "\",\"frontend_node\":\"" + GUEST_NODE
                        + "\"}"), "publish volume " + uuid);
        return replicas;
    }

    private static String poolStatus(LocalCluster cluster, String pool) throws Exception {
        for (JsonNode p : cluster.ok(cluster.get("/v0/pools"), "list pools").values()) {
            if (pool.equals(p.path("id").asString())) {
                return p.path("state").path("status").asString();
            }
        }
        return "(not listed)";
    }

    private static JsonNode volume(LocalCluster cluster, String uuid) throws Exception {
        return cluster.ok(cluster.get("/v0/volumes/" + uuid), "get volume");
    }

    private static JsonNode target(LocalCluster cluster, String uuid) throws Exception {
        return volume(cluster, uuid).path("state").path("target");
    }

    private static long events(LocalCluster cluster, String resourceId, String kind) throws Exception {
        return cluster.ok(cluster.get("/v0/events?resource_id=" + resourceId + "&kind=" + kind), "list events").path("total").asLong();
    }

    private static String eventDetails(LocalCluster cluster, String resourceId, String kind) throws Exception {
        List<String> out = new ArrayList<>();
        for (JsonNode e : cluster.ok(cluster.get("/v0/events?resource_id=" + resourceId + "&kind=" + kind), "list events").path("entries").values()) {
            out.add(e.path("message").asString());
        }
        return String.join("; ", out);
    }

    private static long fsyncedFiles(Path tmp) {
        try {
            return Files.readAllLines(tmp.resolve("share").resolve("fsynced.log")).size();
        } catch (Exception e) {
            return -1;
        }
    }

    private interface Call<T> {
        T on(IoEngineStubs api);
    }

    /** One call of a node's io-engine gRPC API. */
    private static <T> T engine(String node, Call<T> call) throws InterruptedException {
        ManagedChannel channel = engineTls.channelTo("127.0.0.1:" + grpcPort(node), new ClusterPeer.Node(node)).build();
        try {
            return call.on(IoEngineStubs.on(channel, Duration.ofSeconds(30)));
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}

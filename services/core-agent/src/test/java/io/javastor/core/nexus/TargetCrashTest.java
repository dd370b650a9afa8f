package io.javastor.core.nexus;

import static io.javastor.core.testsupport.AppHost.blocks;
import static io.javastor.testsupport.BlockPattern.seeded;
import static io.javastor.testsupport.BlockPattern.writeAll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.grpc.StatusRuntimeException;
import io.javastor.api.core.v1.CreateVolumeRequest;
import io.javastor.api.core.v1.DestroyVolumeRequest;
import io.javastor.api.core.v1.GetVolumeRequest;
import io.javastor.api.core.v1.ListEventsRequest;
import io.javastor.api.core.v1.PublishVolumeRequest;
import io.javastor.api.core.v1.Replica;
import io.javastor.api.core.v1.Volume;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.api.core.v1.VolumeStatus;
import io.javastor.api.core.v1.EventServiceGrpc;
import io.javastor.api.core.v1.CreateNexusRequest;
import io.javastor.api.core.v1.CreateReplicaRequest;
import io.javastor.api.core.v1.DestroyNexusRequest;
import io.javastor.api.core.v1.DestroyReplicaRequest;
import io.javastor.api.core.v1.GetNexusRequest;
import io.javastor.api.core.v1.ListNexusesRequest;
import io.javastor.api.core.v1.NexusServiceGrpc;
import io.javastor.api.core.v1.NexusStatus;
import io.javastor.api.core.v1.ReplicaServiceGrpc;
import io.javastor.api.ioengine.v1.ListNexusRequest;
import io.javastor.core.store.SpecStore;
import io.javastor.core.testsupport.EtcdExtension;
import io.javastor.testsupport.BlockPattern;
import io.javastor.testsupport.IoEngineProcess;
import io.javastor.core.testsupport.RunningAgent;
import io.javastor.core.testsupport.AppHost;
import io.javastor.core.testsupport.TestCluster;
import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.ioengine.nvmf.host.NvmfBlockDevice;
import io.javastor.ioengine.nvmf.host.NvmfHostOptions;

/**
 * A published volume survives the loss of its target's io-engine and never serves a replica that missed
 * acknowledged writes. Real agent, etcd, three io-engine processes, and I/O over NVMe/TCP with the io-engine's
 * own host (which reconnects to the same address, as the kernel's does).
 */
class TargetCrashTest {

    @RegisterExtension
    static final EtcdExtension etcd = new EtcdExtension();

    private static final int MIB = 1 << 20;
    private static final int VOLUME = 8 * MIB;
    private static final int BLOCK = 64 * 1024;
    private static final String CLUSTER = "target-crash";
    private static Path dir;
    private static RunningAgent agent;
    private static TestCluster cluster;
    private static List<IoEngineProcess> nodes;
    private static SpecStore specs;

    @BeforeAll
    static void startCluster() throws Exception {
        // A long heartbeat timeout: the dead replica must be faulted by the target (its I/O times out), not first
        // retired by the agent's replacer, which would take it out of the target before any write missed it.
        cluster = TestCluster.start(etcd.endpoint(), new TestCluster.Settings(CLUSTER, "agent-target-crash", Map.of(
                "javastor.core.nodes.heartbeat-timeout", "120s", "javastor.core.nodes.state-poll-interval", "500ms"), 3, 64, Map.of()));
        agent = cluster.agent();
        nodes = cluster.nodes();
        dir = cluster.dir();
        specs = cluster.specs();
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static void awaitOnline(String... names) {
        cluster.awaitOnline(names);
    }

    private static IoEngineProcess node(String name) {
        return nodes.stream().filter(n -> n.name().equals(name)).findFirst().orElseThrow();
    }

    private static VolumeServiceGrpc.VolumeServiceBlockingStub volumes() {
        return VolumeServiceGrpc.newBlockingStub(agent.channel());
    }

    private static Volume volume(String uuid) {
        return volumes().getVolume(GetVolumeRequest.newBuilder().setUuid(uuid).build());
    }

    /** Reads the volume twice over (the nexus spreads reads over its children) and compares with {@code data}. */
    private static void assertHolds(NvmfBlockDevice dev, byte[] data, String what) throws Exception {
        for (int round = 0; round < 2; round++) {
            BlockPattern.assertHolds(blocks(dev), data, BLOCK, what + " (read round " + round + ")");
        }
    }

    private static NexusInfo nexusInfo(String uuid) {
        return specs.get(NexusInfo.KIND, uuid).map(v -> v.spec()).orElse(NexusInfo.fresh(uuid));
    }

    private static long events(String uuid, String kind) {
        return EventServiceGrpc.newBlockingStub(agent.channel()).listEvents(ListEventsRequest.newBuilder().setResourceId(uuid)
                .setKind(kind).build()).getTotal();
    }

    @Test
    void aFaultIsOnRecordBeforeTheWriteIsAcknowledgedAndTheRestartedTargetNeverServesTheStaleReplica() throws Exception {
        String uuid = UUID.randomUUID().toString();
        Volume created = volumes().createVolume(CreateVolumeRequest.newBuilder().setUuid(uuid).setSize(VOLUME).setReplicaCount(2).build());
        List<String> replicaNodes = created.getReplicasList().stream().map(Replica::getNodeId).toList();
        String targetNode = replicaNodes.get(0);
        String otherNode = replicaNodes.get(1);
        String otherReplica = created.getReplicasList().get(1).getUuid();
        Volume published = volumes().publishVolume(AppHost.TEST_HOST.publish(uuid).setPreferredNodeId(targetNode).build());
        String uri = published.getTarget().getUri();
        // The target's generation is on record before it exists, and it fences the children with it (docs/ha.md).
        assertThat(nexusInfo(uuid).targetGeneration()).isEqualTo(1);
        assertThat(node(targetNode).api().nexuses().listNexus(ListNexusRequest.newBuilder().setUuid(uuid).build()).getNexusList(0).getReservationKey())
                .isEqualTo(1);
        byte[] first = seeded(1, VOLUME);
        byte[] second = seeded(2, VOLUME);
        try (NvmfBlockDevice dev = NvmfBlockDevice.connect(uri, AppHost.TEST_HOST.options(agent, uuid)
                .withReconnectDeadline(Duration.ofMinutes(3)))) {
            writeAll(blocks(dev), first, BLOCK);
            assertHolds(dev, first, "both replicas in sync");

            // The replica that is not on the target's node dies: the first write it misses is acknowledged only once
            // the agent has it on record as out of sync.
            node(otherNode).kill9();
            ByteBuffer one = DmaBuffers.allocate(BLOCK);
            one.put(second, 0, BLOCK).flip();
            dev.write(0, one).get(60, TimeUnit.SECONDS);
            assertThat(nexusInfo(uuid).outOfSync()).as("on record when the write that missed it is acknowledged").contains(otherReplica);
            writeAll(blocks(dev), second, BLOCK);

            // Now the target's own io-engine dies too. The stale replica comes back first; then the target's node.
            node(targetNode).kill9();
            node(otherNode).start();
            awaitOnline(otherNode);
            node(targetNode).start();
            awaitOnline(targetNode);

            // The agent re-creates the target where it was, from the in-sync replica only, and rebuilds the other.
            await("target re-created").atMost(Duration.ofSeconds(90)).until(() ->
                    node(targetNode).api().nexuses().listNexus(ListNexusRequest.newBuilder().setUuid(uuid).build()).getNexusListCount() == 1);
            // The agent records the event just after the engine answers: wait for it, then there is exactly one.
            await("TargetRecreated recorded").atMost(Duration.ofSeconds(30)).until(() -> events(uuid, "TargetRecreated") >= 1);
            assertThat(events(uuid, "TargetRecreated")).isEqualTo(1);
            // A new generation, the one on record (an attempt that found no child to open may have taken one before).
            long recreatedKey = node(targetNode).api().nexuses().listNexus(ListNexusRequest.newBuilder().setUuid(uuid).build()).getNexusList(0)
                    .getReservationKey();
            assertThat(recreatedKey).as("the re-created target is a new generation").isGreaterThan(1);
            assertThat(nexusInfo(uuid).targetGeneration()).isEqualTo(recreatedKey);
            // The host reconnects to the same address and reads what was acknowledged last, from every child it may pick.
            assertHolds(dev, second, "after the target was re-created");
            await("stale replica rebuilt").atMost(Duration.ofSeconds(120)).until(() ->
                    nexusInfo(uuid).outOfSync().isEmpty() && volume(uuid).getStatus() == VolumeStatus.VOLUME_STATUS_ONLINE);
            assertHolds(dev, second, "after the rebuild");
        }
        volumes().destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
        assertThat(specs.get(NexusInfo.KIND, uuid)).as("what the targets said goes with the volume").isEmpty();
    }

    /**
     * A nexus outside volumes is its user's: the volume reconcilers neither re-create it after its io-engine restarts
     * nor touch its spec; creating it again starts it again.
     */
    @Test
    void aNexusOutsideVolumesIsStartedAgainByItsUserNotByTheVolumeReconcilers() throws Exception {
        var nexusApi = NexusServiceGrpc.newBlockingStub(agent.channel());
        var replicaApi = ReplicaServiceGrpc.newBlockingStub(agent.channel());
        String replica = UUID.randomUUID().toString();
        String uuid = UUID.randomUUID().toString();
        replicaApi.createReplica(CreateReplicaRequest.newBuilder().setUuid(replica).setNodeId("node-3").setPoolId("pool-node-3")
                .setSize(4 * MIB).build());
        CreateNexusRequest create = CreateNexusRequest.newBuilder().setUuid(uuid).setNodeId("node-3").setSize(4 * MIB)
                .addChildren("bdev:///" + replica).build();
        var made = nexusApi.createNexus(create);
        assertThat(made.getStatus()).isEqualTo(NexusStatus.NEXUS_STATUS_ONLINE);
        assertThat(made.getVolumeId()).isEmpty();
        assertThat(nexusApi.listNexuses(ListNexusesRequest.newBuilder().setNodeId("node-3").build()).getNexusesList())
                .anyMatch(n -> n.getUuid().equals(uuid));

        long restarts = events("node-3", "NodeRestarted");
        node("node-3").kill9();
        node("node-3").start();
        awaitOnline("node-3");
        // Back well within the 120 s heartbeat timeout: the agent knows it restarted from its first registration.
        await("restart recorded").atMost(Duration.ofSeconds(60)).until(() -> events("node-3", "NodeRestarted") == restarts + 1);
        // Back once the agent has imported its pool again (the io-engine itself lists the replica), and the
        // agent's inventory says the nexus is gone.
        await("pool imported again").atMost(Duration.ofSeconds(90)).until(() -> {
            try {
                return node("node-3").api().replicas().listReplicas(io.javastor.api.ioengine.v1.ListReplicasRequest.getDefaultInstance())
                        .getReplicasList().stream().anyMatch(r -> r.getUuid().equals(replica));
            } catch (StatusRuntimeException starting) {
                return false;
            }
        });
        await("nexus gone from the inventory").atMost(Duration.ofSeconds(30)).until(() -> nexusApi.listNexuses(
                ListNexusesRequest.getDefaultInstance()).getNexusesList().stream().noneMatch(n -> n.getUuid().equals(uuid)));
        var spec = specs.get(NexusSpec.KIND, uuid).orElseThrow().spec();
        assertThat(spec.volumeId()).isEmpty();
        assertThat(spec.operation()).isEqualTo(io.javastor.core.store.OperationStatus.CREATED);
        assertThat(events(uuid, "TargetRecreated")).isZero();

        var again = nexusApi.createNexus(create);
        assertThat(again.getStatus()).isEqualTo(NexusStatus.NEXUS_STATUS_ONLINE);
        assertThat(node("node-3").api().nexuses().listNexus(ListNexusRequest.newBuilder().setUuid(uuid).build()).getNexusListCount()).isEqualTo(1);
        assertThat(nexusApi.getNexus(GetNexusRequest.newBuilder().setUuid(uuid).build()).getChildren(0).getUri()).isEqualTo("bdev:///" + replica);

        nexusApi.destroyNexus(DestroyNexusRequest.newBuilder().setUuid(uuid).build());
        assertThat(specs.get(NexusSpec.KIND, uuid)).isEmpty();
        assertThat(node("node-3").api().nexuses().listNexus(ListNexusRequest.newBuilder().setUuid(uuid).build()).getNexusListCount()).isZero();
        replicaApi.destroyReplica(DestroyReplicaRequest.newBuilder().setUuid(replica).build());
    }
}

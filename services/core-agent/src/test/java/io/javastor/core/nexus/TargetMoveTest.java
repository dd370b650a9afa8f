package io.javastor.core.nexus;

import static io.javastor.core.testsupport.AppHost.blocks;
import static io.javastor.testsupport.BlockPattern.assertHolds;
import static io.javastor.testsupport.BlockPattern.seeded;
import static io.javastor.testsupport.BlockPattern.writeAll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.javastor.api.core.v1.CreateVolumeRequest;
import io.javastor.api.core.v1.EventServiceGrpc;
import io.javastor.api.core.v1.GetNodeRequest;
import io.javastor.api.core.v1.ListEventsRequest;
import io.javastor.api.core.v1.NodeServiceGrpc;
import io.javastor.api.core.v1.NodeStatus;
import io.javastor.api.core.v1.PublishVolumeRequest;
import io.javastor.api.core.v1.Replica;
import io.javastor.api.core.v1.Volume;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.api.ioengine.v1.ListNexusRequest;
import io.javastor.core.store.SpecStore;
import io.javastor.core.testsupport.EtcdExtension;
import io.javastor.testsupport.IoEngineProcess;
import io.javastor.core.testsupport.RunningAgent;
import io.javastor.core.testsupport.AppHost;
import io.javastor.core.testsupport.TestCluster;
import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.ioengine.nvmf.host.NvmfBlockDevice;
import io.javastor.ioengine.nvmf.host.NvmfHostOptions;

/**
 * A volume's target moves (issue 14): to a node of the user's choice while the old one runs (it is shut down in order
 * first), by itself away from a node that died or is drained, and when a host reports its path lost (the new target
 * is fenced with a newer generation and takes the old node's replica share away). The data the host wrote is there on the new target each time. Real agent, etcd,
 * three io-engine processes, I/O over NVMe/TCP.
 */
class TargetMoveTest {

    @RegisterExtension
    static final EtcdExtension etcd = new EtcdExtension();

    private static final int MIB = 1 << 20;
    private static final int VOLUME = 4 * MIB;
    private static final int BLOCK = 64 * 1024;
    private static TestCluster cluster;
    private static RunningAgent agent;
    private static List<IoEngineProcess> nodes;
    private static SpecStore specs;

    @BeforeAll
    static void startCluster() throws Exception {
        // A short heartbeat timeout: a killed node goes Offline within seconds.
        cluster = TestCluster.start(etcd.endpoint(), new TestCluster.Settings("target-move", "agent-target-move", Map.of(
                "javastor.core.nodes.heartbeat-timeout", "4s", "javastor.core.nodes.state-poll-interval", "500ms"), 3, 64, Map.of()));
        agent = cluster.agent();
        nodes = cluster.nodes();
        specs = cluster.specs();
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static IoEngineProcess node(String name) {
        return nodes.stream().filter(n -> n.name().equals(name)).findFirst().orElseThrow();
    }

    private static VolumeServiceGrpc.VolumeServiceBlockingStub volumes() {
        return VolumeServiceGrpc.newBlockingStub(agent.channel());
    }

    private static NvmfBlockDevice connect(String uri) {
        return AppHost.TEST_HOST.connect(agent, uri);
    }

    private static long key(String nodeId, String uuid) {
        return node(nodeId).api().nexuses().listNexus(ListNexusRequest.newBuilder().setUuid(uuid).build()).getNexusList(0).getReservationKey();
    }

    private static long events(String uuid, String kind) {
        return EventServiceGrpc.newBlockingStub(agent.channel()).listEvents(ListEventsRequest.newBuilder().setResourceId(uuid)
                .setKind(kind).build()).getTotal();
    }

    @Test
    void theTargetMovesToAChosenNodeAndAwayFromADeadOneAndTheDataGoesWithIt() throws Exception {
        String uuid = UUID.randomUUID().toString();
        Volume created = volumes().createVolume(CreateVolumeRequest.newBuilder().setUuid(uuid).setSize(VOLUME).setReplicaCount(2).build());
        List<String> replicaNodes = created.getReplicasList().stream().map(Replica::getNodeId).toList();
        String first = replicaNodes.get(0);
        String spare = nodes.stream().map(IoEngineProcess::name).filter(n -> !replicaNodes.contains(n)).findFirst().orElseThrow();
        String uri = volumes().publishVolume(AppHost.TEST_HOST.publish(uuid).setPreferredNodeId(first).build())
                .getTarget().getUri();
        byte[] data = seeded(7, VOLUME);
        try (NvmfBlockDevice dev = connect(uri)) {
            writeAll(blocks(dev), data, BLOCK);
        }

        // 1. Moved by request while the old target runs: shut down in order, a new one on the spare node (no replica there).
        Volume moved = volumes().publishVolume(PublishVolumeRequest.newBuilder().setUuid(uuid).setPreferredNodeId(spare).setRepublish(true).build());
        assertThat(moved.getTarget().getNodeId()).isEqualTo(spare);
        String movedUri = moved.getTarget().getUri();
        assertThat(movedUri).isNotEqualTo(uri);
        assertThat(node(first).api().nexuses().listNexus(ListNexusRequest.newBuilder().setUuid(uuid).build()).getNexusListCount())
                .as("the old target is gone").isZero();
        assertThat(key(spare, uuid)).as("a new generation").isEqualTo(2);
        try (NvmfBlockDevice dev = connect(movedUri)) {
            assertHolds(blocks(dev), data, BLOCK, "after the move to " + spare);
        }

        // 2. The target's node dies: once it is Offline the agent moves the target by itself (OfflineTargetMover), fenced
        // with a newer generation, over the replicas that are left.
        node(spare).kill9();
        await("node Offline").atMost(Duration.ofSeconds(60)).until(() -> NodeServiceGrpc.newBlockingStub(agent.channel())
                .getNode(GetNodeRequest.newBuilder().setId(spare).build()).getStatus() != NodeStatus.NODE_STATUS_ONLINE);
        Volume rescued = await("the target moved off the dead node").atMost(Duration.ofSeconds(60)).until(() -> volumes().getVolume(
                io.javastor.api.core.v1.GetVolumeRequest.newBuilder().setUuid(uuid).build()), v -> v.hasTarget() && !v.getTarget().getNodeId().equals(spare)
                && !v.getTarget().getUri().isEmpty());
        String rescuer = rescued.getTarget().getNodeId();
        assertThat(replicaNodes).as("the only nodes left hold its replicas").contains(rescuer);
        assertThat(key(rescuer, uuid)).as("newer than the dead target's").isEqualTo(3);
        try (NvmfBlockDevice dev = connect(rescued.getTarget().getUri())) {
            assertHolds(blocks(dev), data, BLOCK, "after the move away from the dead " + spare);
        }
        // The move records its event once it is done, after the volume shows the new target (its other children are
        // added back first): wait for it rather than race it.
        await("both moves recorded").atMost(Duration.ofSeconds(30)).until(() -> events(uuid, "TargetMoved") >= 2);
        assertThat(events(uuid, "TargetMoved")).as("one event per move").isEqualTo(2);
        node(spare).start();
        cluster.awaitOnline(spare);
    }

    /** A drained node's targets move off it while its data stays readable, and then the node reports Drained. */
    @Test
    void aDrainedNodeHandsItsTargetsOverAndReportsDrained() throws Exception {
        String uuid = UUID.randomUUID().toString();
        Volume created = volumes().createVolume(CreateVolumeRequest.newBuilder().setUuid(uuid).setSize(VOLUME).setReplicaCount(2).build());
        String target = created.getReplicasList().get(0).getNodeId();
        String uri = volumes().publishVolume(AppHost.TEST_HOST.publish(uuid).setPreferredNodeId(target).build())
                .getTarget().getUri();
        byte[] data = seeded(21, VOLUME);
        try (NvmfBlockDevice dev = connect(uri)) {
            writeAll(blocks(dev), data, BLOCK);
        }
        var nodeApi = NodeServiceGrpc.newBlockingStub(agent.channel());
        nodeApi.drainNode(io.javastor.api.core.v1.DrainNodeRequest.newBuilder().setId(target).setLabel("maintenance").build());
        try {
            // Drained once the node holds no nexus: that is as soon as the old one is shut down, before the new one serves.
            await("node Drained and the move done").atMost(Duration.ofSeconds(60)).until(() -> nodeApi.getNode(GetNodeRequest.newBuilder()
                    .setId(target).build()).getDrainState() == io.javastor.api.core.v1.DrainState.DRAIN_STATE_DRAINED
                    && events(uuid, "TargetMoved") == 1);
            Volume moved = volumes().getVolume(io.javastor.api.core.v1.GetVolumeRequest.newBuilder().setUuid(uuid).build());
            assertThat(moved.getTarget().getNodeId()).isNotEqualTo(target);
            assertThat(node(target).api().nexuses().listNexus(ListNexusRequest.newBuilder().setUuid(uuid).build()).getNexusListCount())
                    .as("shut down on the drained node").isZero();
            assertThat(events(uuid, "TargetMoved")).isEqualTo(1);
            try (NvmfBlockDevice dev = connect(moved.getTarget().getUri())) {
                assertHolds(blocks(dev), data, BLOCK, "after the drain of " + target);
            }
        } finally {
            nodeApi.uncordonNode(io.javastor.api.core.v1.UncordonNodeRequest.newBuilder().setId(target).setLabel("maintenance").build());
        }
    }

    /**
     * The old target was frozen, not dead (SIGSTOP): the target moves away while its node does not answer, and when it
     * thaws it can write to no replica (fenced, or already destroyed as stale), and it is destroyed as a stale target.
     */
    @Test
    void aFrozenTargetThatThawsAfterTheMoveCannotWriteAndIsDestroyed() throws Exception {
        String uuid = UUID.randomUUID().toString();
        Volume created = volumes().createVolume(CreateVolumeRequest.newBuilder().setUuid(uuid).setSize(VOLUME).setReplicaCount(2).build());
        List<String> replicaNodes = created.getReplicasList().stream().map(Replica::getNodeId).toList();
        String spare = nodes.stream().map(IoEngineProcess::name).filter(n -> !replicaNodes.contains(n)).findFirst().orElseThrow();
        String oldUri = volumes().publishVolume(AppHost.TEST_HOST.publish(uuid).setPreferredNodeId(spare).build())
                .getTarget().getUri();
        byte[] data = seeded(11, VOLUME);
        try (NvmfBlockDevice dev = connect(oldUri)) {
            writeAll(blocks(dev), data, BLOCK);
        }
        node(spare).freeze();
        try {
            // A host whose path died says so: the target moves, and the answer is where to connect now.
            io.javastor.api.core.v1.ReportFailedPathResponse report = volumes().withDeadlineAfter(60, TimeUnit.SECONDS).reportFailedPath(
                    io.javastor.api.core.v1.ReportFailedPathRequest.newBuilder().setUuid(uuid).setFailedUri(oldUri).setHostNode("app-node").build());
            assertThat(report.getMoved()).isTrue();
            assertThat(report.getDeviceUri()).isNotEqualTo(oldUri);
            Volume moved = volumes().getVolume(io.javastor.api.core.v1.GetVolumeRequest.newBuilder().setUuid(uuid).build());
            assertThat(moved.getTarget().getUri()).isEqualTo(report.getDeviceUri());
            assertThat(moved.getTarget().getNodeId()).isIn(replicaNodes);
            // A second report of the same old path (another of the host's queues, a retry) changes nothing.
            io.javastor.api.core.v1.ReportFailedPathResponse again = volumes().reportFailedPath(io.javastor.api.core.v1.ReportFailedPathRequest
                    .newBuilder().setUuid(uuid).setFailedUri(oldUri).setHostNode("app-node").build());
            assertThat(again.getMoved()).isFalse();
            assertThat(again.getDeviceUri()).isEqualTo(report.getDeviceUri());
            assertThat(events(uuid, "TargetMoved")).isEqualTo(1);
        } finally {
            node(spare).thaw();
        }
        // Thawed: whatever the old target still accepts must not reach the replicas.
        byte[] other = seeded(12, VOLUME);
        boolean written;
        try (NvmfBlockDevice stale = connect(oldUri)) {
            ByteBuffer buf = DmaBuffers.allocate(BLOCK);
            buf.put(other, 0, BLOCK).flip();
            stale.write(0, buf).get(60, TimeUnit.SECONDS);
            written = true;
        } catch (Exception refused) {
            written = false; // fenced (Reservation Conflict on its children), or gone already: either way refused
        }
        assertThat(written).as("the thawed old target acknowledged a write").isFalse();
        await("stale target destroyed").atMost(Duration.ofSeconds(60)).until(() ->
                node(spare).api().nexuses().listNexus(ListNexusRequest.newBuilder().setUuid(uuid).build()).getNexusListCount() == 0);
        await("event recorded").atMost(Duration.ofSeconds(10)).until(() -> events(uuid, "StaleTargetDestroyed") >= 1);
        assertThat(events(uuid, "StaleTargetDestroyed")).as("destroyed once").isEqualTo(1);
        try (NvmfBlockDevice dev = connect(volumes().getVolume(io.javastor.api.core.v1.GetVolumeRequest.newBuilder().setUuid(uuid).build())
                .getTarget().getUri())) {
            assertHolds(blocks(dev), data, BLOCK, "after the frozen target thawed");
        }
    }
}

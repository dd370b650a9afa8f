package io.javastor.core.reconcile;

import static io.javastor.core.testsupport.AppHost.blocks;
import static io.javastor.testsupport.BlockPattern.assertHolds;
import static io.javastor.testsupport.BlockPattern.seeded;
import static io.javastor.testsupport.BlockPattern.write;
import io.javastor.api.tls.ClusterPeer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
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

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.javastor.api.core.v1.ChildHealthReport;
import io.javastor.api.core.v1.CreateVolumeRequest;
import io.javastor.api.core.v1.DestroyVolumeRequest;
import io.javastor.api.core.v1.EventServiceGrpc;
import io.javastor.api.core.v1.GetVolumeRequest;
import io.javastor.api.core.v1.ListEventsRequest;
import io.javastor.api.core.v1.PublishVolumeRequest;
import io.javastor.api.core.v1.RegistrationGrpc;
import io.javastor.api.core.v1.Replica;
import io.javastor.api.core.v1.UnpublishVolumeRequest;
import io.javastor.api.core.v1.Volume;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.api.core.v1.VolumeStatus;
import io.javastor.api.ioengine.v1.ChildState;
import io.javastor.api.ioengine.v1.FaultNexusChildRequest;
import io.javastor.api.ioengine.v1.ListNexusRequest;
import io.javastor.api.ioengine.v1.ShareProtocol;
import io.javastor.api.ioengine.v1.ShareReplicaRequest;
import io.javastor.api.ioengine.v1.UnshareReplicaRequest;
import io.javastor.core.nexus.NexusInfo;
import io.javastor.core.nexus.NexusSpec;
import io.javastor.core.store.SpecStore;
import io.javastor.core.testsupport.EtcdExtension;
import io.javastor.testsupport.IoEngineProcess;
import io.javastor.core.testsupport.AppHost;
import io.javastor.core.testsupport.TestCluster;
import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.ioengine.nvmf.host.NvmfBlockDevice;
import io.javastor.ioengine.nvmf.host.NvmfHostOptions;

/**
 * Child health end to end: the agent refuses reports it cannot record, and a child the target faulted comes back
 * with no operator action (added back and rebuilt), holding every write made before and while it was away. Real
 * agent, etcd, three io-engine processes, I/O over NVMe/TCP with the io-engine's own host.
 */
class FaultedChildHealerTest {

    @RegisterExtension
    static final EtcdExtension etcd = new EtcdExtension();

    private static final int MIB = 1 << 20;
    private static final int VOLUME = 8 * MIB;
    private static final int BLOCK = 64 * 1024;
    private static final String HOST = "nqn.2019-05.io.javastor:test-host";
    private static final AppHost APP_HOST = new AppHost(HOST);
    private static TestCluster cluster;
    private static SpecStore specs;

    @BeforeAll
    static void startCluster() throws Exception {
        // A long heartbeat timeout: a restarted io-engine must come back as the same Online node, its replica faulted
        // by the target, not retired by the lost-replica path first.
        cluster = TestCluster.start(etcd.endpoint(), new TestCluster.Settings("self-heal", "agent-self-heal", Map.of(
                "javastor.core.nodes.heartbeat-timeout", "120s", "javastor.core.nodes.state-poll-interval", "500ms",
                // Generous node calls: the machine is small and shared; a slow answer is not what these tests are about.
                "javastor.core.nodes.call-timeout", "10s"), 3, 64, Map.of()));
        specs = cluster.specs();
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static VolumeServiceGrpc.VolumeServiceBlockingStub volumes() {
        return VolumeServiceGrpc.newBlockingStub(cluster.agent().channel());
    }

    /** Registration calls as node {@code node}'s io-engine makes them (its certificate names it: it reports for itself only). */
    private static RegistrationGrpc.RegistrationBlockingStub registration(String node) {
        return RegistrationGrpc.newBlockingStub(cluster.agent().channelAs(new ClusterPeer.Node(node))).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    private static Volume volume(String uuid) {
        return volumes().getVolume(GetVolumeRequest.newBuilder().setUuid(uuid).build());
    }

    private static NexusInfo nexusInfo(String uuid) {
        return specs.get(NexusInfo.KIND, uuid).map(v -> v.spec()).orElse(NexusInfo.fresh(uuid));
    }

    private static NexusSpec nexusSpec(String uuid) {
        return specs.get(NexusSpec.KIND, uuid).orElseThrow().spec();
    }

    private static long events(String uuid, String kind) {
        return EventServiceGrpc.newBlockingStub(cluster.agent().channel()).listEvents(ListEventsRequest.newBuilder().setResourceId(uuid)
                .setKind(kind).build()).getTotal();
    }

    /** A published 2-replica volume with its target on the first replica's node; returns it as published. */
    private static Volume publishedVolume(String uuid) {
        Volume created = volumes().createVolume(CreateVolumeRequest.newBuilder().setUuid(uuid).setSize(VOLUME).setReplicaCount(2).build());
        return volumes().publishVolume(APP_HOST.publish(uuid).setPreferredNodeId(created.getReplicas(0).getNodeId()).build());
    }

    /** The volume's child that is not on the target's node (shared to it over NVMe-oF). */
    private static NexusSpec.Child remoteChild(String uuid) {
        return nexusSpec(uuid).children().stream().filter(NexusSpec.Child::shared).findFirst().orElseThrow();
    }

    private static List<io.javastor.api.ioengine.v1.NexusChild> runningChildren(String targetNode, String uuid) {
        return cluster.node(targetNode).api().nexuses().listNexus(ListNexusRequest.newBuilder().setUuid(uuid).build()).getNexusList(0).getChildrenList();
    }

    /** Every child Online on the target again, every replica in sync, the volume Online: healed. */
    private static void awaitHealed(String uuid, String targetNode) {
        await("volume healed").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250)).until(() ->
                runningChildren(targetNode, uuid).stream().allMatch(c -> c.getState() == ChildState.CHILD_STATE_ONLINE)
                        && nexusInfo(uuid).outOfSync().isEmpty()
                        && volume(uuid).getStatus() == VolumeStatus.VOLUME_STATUS_ONLINE);
    }

    /**
     * With the volume unpublished, each replica is shared to the test host by its own io-engine and read block by
     * block: every one must hold {@code data} (the target reading from one child could hide a stale other).
     */
    private static void assertEveryReplicaHolds(String uuid, byte[] data) throws Exception {
        volumes().unpublishVolume(UnpublishVolumeRequest.newBuilder().setUuid(uuid).build());
        List<Replica> replicas = volume(uuid).getReplicasList();
        assertThat(replicas).hasSize(2);
        for (Replica r : replicas) {
            IoEngineProcess node = cluster.node(r.getNodeId());
            String uri = node.api().replicas().shareReplica(ShareReplicaRequest.newBuilder().setUuid(r.getUuid())
                    .setProtocol(ShareProtocol.SHARE_PROTOCOL_NVMF).addAllowedHosts(HOST).build()).getUri();
            try (NvmfBlockDevice dev = NvmfBlockDevice.connect(uri, NvmfHostOptions.defaults(HOST))) {
                assertHolds(blocks(dev), data, BLOCK, "replica " + r.getUuid() + " on " + r.getNodeId());
            } finally {
                node.api().replicas().unshareReplica(UnshareReplicaRequest.newBuilder().setUuid(r.getUuid()).build());
            }
        }
    }

    @Test
    void reportsTheAgentCannotRecordAreRefusedAndARealFaultIsRecorded() {
        String unknownNexus = UUID.randomUUID().toString();
        assertThatThrownBy(() -> registration("node-1").reportChildFaulted(ChildHealthReport.newBuilder().setNodeId("node-1")
                .setNexusUuid(unknownNexus).setChildUri("bdev:///" + UUID.randomUUID()).setReason("test").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                    assertThat(e.getStatus().getDescription()).contains("nexus " + unknownNexus).contains("not known");
                });

        String uuid = UUID.randomUUID().toString();
        Volume published = publishedVolume(uuid);
        String targetNode = published.getTarget().getNodeId();
        String strangerChild = "bdev:///" + UUID.randomUUID();
        assertThatThrownBy(() -> registration(targetNode).reportChildFaulted(ChildHealthReport.newBuilder().setNodeId(targetNode)
                .setNexusUuid(uuid).setChildUri(strangerChild).setReason("test").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                    assertThat(e.getStatus().getDescription()).contains(strangerChild).contains("not in its spec");
                });
        assertThat(nexusInfo(uuid).outOfSync()).as("nothing recorded for a refused report").isEmpty();

        // From another node than the target's: an old target of the volume (moved away while its node was frozen). Its
        // report is refused, so it cannot acknowledge a write that missed a child, and the current target's record stays.
        NexusSpec.Child real = remoteChild(uuid);
        String otherNode = real.replicaNodeId().equals(targetNode) ? "node-x" : real.replicaNodeId();
        assertThatThrownBy(() -> registration(otherNode).reportChildFaulted(ChildHealthReport.newBuilder().setNodeId(otherNode)
                .setNexusUuid(uuid).setChildUri(real.uri()).setReason("test: an old target's I/O error").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                    assertThat(e.getStatus().getDescription()).contains("its target is on node " + targetNode).contains("old target");
                });
        assertThat(nexusInfo(uuid).outOfSync()).as("nothing recorded for an old target's report").isEmpty();

        registration(targetNode).reportChildFaulted(ChildHealthReport.newBuilder().setNodeId(targetNode).setNexusUuid(uuid)
                .setChildUri(real.uri()).setReason("test: I/O error").build());
        assertThat(nexusInfo(uuid).outOfSync()).containsExactly(real.replicaUuid());

        volumes().destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
    }

    /** One step of an outage of the volume's remote child. */
    private interface Step {
        void run(String uuid, String targetNode, NexusSpec.Child remote) throws Exception;
    }

    /**
     * Publishes a 2-replica volume and fills it; {@code outage} takes the remote child out; half the volume (from
     * {@code degradedFrom}) is written again while it is out; {@code back} lets it come back. Then, with no operator
     * action, the child must be Online again on the same replica and every replica must hold every write.
     */
    private static void healsAfter(long seed, int degradedFrom, Step outage, Step back) throws Exception {
        String uuid = UUID.randomUUID().toString();
        Volume published = publishedVolume(uuid);
        String targetNode = published.getTarget().getNodeId();
        NexusSpec.Child remote = remoteChild(uuid);
        byte[] before = seeded(seed, VOLUME);
        byte[] degraded = seeded(seed + 1, VOLUME);
        byte[] after = before.clone();
        System.arraycopy(degraded, degradedFrom, after, degradedFrom, VOLUME / 2);
        try (NvmfBlockDevice dev = APP_HOST.connect(cluster.agent(), published.getTarget().getUri())) {
            write(blocks(dev), before, 0, VOLUME, BLOCK);
            long outageStart = System.nanoTime();
            outage.run(uuid, targetNode, remote);
            // Written while the child is out (and maybe while it is being added back): the rebuild must bring it over.
            write(blocks(dev), degraded, degradedFrom, degradedFrom + VOLUME / 2, BLOCK);
            back.run(uuid, targetNode, remote);
            awaitHealed(uuid, targetNode);
            // Backed off (1 s doubling): tries that failed while the replica was away number about log2 of the outage's
            // seconds, where retrying on every reconcile pass (200 ms here) would have made five a second.
            double outageSeconds = Math.max(1, (System.nanoTime() - outageStart) / 1e9);
            assertThat(events(uuid, "ChildRetryFailed")).as("failed tries in a %.1f s outage", outageSeconds)
                    .isLessThanOrEqualTo((long) Math.ceil(Math.log(outageSeconds) / Math.log(2)) + 2);
            assertHolds(blocks(dev), after, BLOCK, "through the target after healing");
        }
        assertThat(events(uuid, "ChildRetried")).isGreaterThanOrEqualTo(1);
        assertThat(events(uuid, "ChildReplaced")).isZero();
        assertThat(nexusSpec(uuid).children()).as("the same replicas").extracting(NexusSpec.Child::replicaUuid)
                .contains(remote.replicaUuid());
        assertEveryReplicaHolds(uuid, after);
        volumes().destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
    }

    /**
     * The io-engine's side: a nexus made on the io-engine behind the cluster's back faults a child; the agent refuses
     * the report (NOT_FOUND: the nexus is unknown), so the write that skipped the child is not acknowledged.
     */
    @Test
    void aWriteThatSkippedAFaultedChildFailsWhenTheAgentRefusesTheFaultReport() throws Exception {
        var engine = cluster.node("node-3").api();
        String nexus = UUID.randomUUID().toString();
        List<String> replicas = List.of(UUID.randomUUID().toString(), UUID.randomUUID().toString());
        for (String r : replicas) {
            engine.replicas().createReplica(io.javastor.api.ioengine.v1.CreateReplicaRequest.newBuilder().setUuid(r).setPool(TestCluster.poolOf("node-3"))
                    .setSize(4 * MIB).build());
        }
        engine.nexuses().createNexus(io.javastor.api.ioengine.v1.CreateNexusRequest.newBuilder().setUuid(nexus).setSize(4 * MIB)
                .addChildren("bdev:///" + replicas.get(0)).addChildren("bdev:///" + replicas.get(1)).build());
        String uri = engine.nexuses().publishNexus(io.javastor.api.ioengine.v1.PublishNexusRequest.newBuilder().setUuid(nexus)
                .setProtocol(ShareProtocol.SHARE_PROTOCOL_NVMF).build()).getDeviceUri();
        byte[] data = seeded(41, VOLUME);
        try (NvmfBlockDevice dev = NvmfBlockDevice.connect(uri, NvmfHostOptions.defaults(HOST))) {
            write(blocks(dev), data, 0, BLOCK, BLOCK); // both children healthy: acknowledged
            engine.nexuses().faultNexusChild(FaultNexusChildRequest.newBuilder().setUuid(nexus).setUri("bdev:///" + replicas.get(1))
                    .setReason("test: fault the agent cannot record").build());
            ByteBuffer buf = DmaBuffers.allocate(BLOCK);
            buf.put(data, 0, BLOCK).flip();
            assertThatThrownBy(() -> dev.write(0, buf).get(60, TimeUnit.SECONDS)).as("a write the agent has no fault record for")
                    .isInstanceOf(java.util.concurrent.ExecutionException.class);
        }
        assertThat(specs.get(NexusInfo.KIND, nexus)).as("nothing recorded for an unknown nexus").isEmpty();

        // The nexus goes either way. An io-engine that checks fault records at shutdown also says the shutdown was not
        // clean (a fault it could not put on record), which is true here.
        try {
            engine.nexuses().destroyNexus(io.javastor.api.ioengine.v1.DestroyNexusRequest.newBuilder().setUuid(nexus).build());
        } catch (StatusRuntimeException notClean) {
            assertThat(notClean.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
            assertThat(notClean.getStatus().getDescription()).contains("not cleanly");
        }
        assertThat(engine.nexuses().listNexus(ListNexusRequest.newBuilder().setUuid(nexus).build()).getNexusListCount()).isZero();
        for (String r : replicas) {
            engine.replicas().destroyReplica(io.javastor.api.ioengine.v1.DestroyReplicaRequest.newBuilder().setUuid(r).build());
        }
    }

    @Test
    void aChildFaultedByTheTargetIsAddedBackAndHoldsEveryWrite() throws Exception {
        healsAfter(11, 0, (uuid, targetNode, remote) -> cluster.node(targetNode).api().nexuses().faultNexusChild(FaultNexusChildRequest.newBuilder()
                .setUuid(uuid).setUri(remote.uri()).setReason("test: transient I/O error").build()), (uuid, targetNode, remote) -> { });
    }

    @Test
    void aChildWhoseIoEngineRestartedIsSharedAgainAndRebuilt() throws Exception {
        // The replica's io-engine dies and is back well within the node-offline timeout: its share is gone with it.
        healsAfter(21, VOLUME / 2, (uuid, targetNode, remote) -> cluster.node(remote.replicaNodeId()).kill9(), (uuid, targetNode, remote) -> {
            await("remote child faulted").atMost(Duration.ofSeconds(60)).until(() -> runningChildren(targetNode, uuid).stream()
                    .anyMatch(c -> c.getUri().equals(remote.uri()) && c.getState() == ChildState.CHILD_STATE_FAULTED));
            cluster.node(remote.replicaNodeId()).start();
        });
    }

    @Test
    void aFaultedChildWhoseReplicaIsGoneIsReplacedByANewRebuiltOne() throws Exception {
        String uuid = UUID.randomUUID().toString();
        Volume published = publishedVolume(uuid);
        String targetNode = published.getTarget().getNodeId();
        NexusSpec.Child remote = remoteChild(uuid);
        byte[] data = seeded(31, VOLUME);
        try (NvmfBlockDevice dev = APP_HOST.connect(cluster.agent(), published.getTarget().getUri())) {
            write(blocks(dev), data, 0, VOLUME, BLOCK);
            // The replica vanishes from its pool behind the agent's back (its node and pool stay): the target faults the
            // child on its next write, and the replica cannot come back.
            var replicaNode = cluster.node(remote.replicaNodeId()).api();
            replicaNode.replicas().unshareReplica(UnshareReplicaRequest.newBuilder().setUuid(remote.replicaUuid()).build());
            replicaNode.replicas().destroyReplica(io.javastor.api.ioengine.v1.DestroyReplicaRequest.newBuilder().setUuid(remote.replicaUuid()).build());
            byte[] more = seeded(32, VOLUME);
            System.arraycopy(more, 0, data, 0, VOLUME / 4);
            write(blocks(dev), data, 0, VOLUME / 4, BLOCK);
            await("child replaced and rebuilt").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250)).until(() ->
                    nexusSpec(uuid).children().stream().noneMatch(c -> c.replicaUuid().equals(remote.replicaUuid()))
                            && nexusSpec(uuid).children().size() == 2
                            && runningChildren(targetNode, uuid).size() == 2
                            && runningChildren(targetNode, uuid).stream().allMatch(c -> c.getState() == ChildState.CHILD_STATE_ONLINE)
                            && nexusInfo(uuid).outOfSync().isEmpty()
                            && volume(uuid).getStatus() == VolumeStatus.VOLUME_STATUS_ONLINE);
            assertHolds(blocks(dev), data, BLOCK, "through the target after the replacement");
        }
        assertThat(events(uuid, "ChildReplaced")).isGreaterThanOrEqualTo(1);
        assertThat(volume(uuid).getReplicasList()).extracting(Replica::getUuid).doesNotContain(remote.replicaUuid()).hasSize(2);
        assertEveryReplicaHolds(uuid, data);
        volumes().destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
    }
}

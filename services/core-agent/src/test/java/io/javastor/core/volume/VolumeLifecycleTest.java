package io.javastor.core.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.javastor.api.core.v1.CordonNodeRequest;
import io.javastor.api.core.v1.CreatePoolRequest;
import io.javastor.api.core.v1.CreateVolumeRequest;
import io.javastor.api.core.v1.DestroyPoolRequest;
import io.javastor.api.core.v1.DestroyVolumeRequest;
import io.javastor.api.core.v1.GetNodeRequest;
import io.javastor.api.core.v1.GetPoolRequest;
import io.javastor.api.core.v1.GetVolumeRequest;
import io.javastor.api.core.v1.ListEventsRequest;
import io.javastor.api.core.v1.NodeServiceGrpc;
import io.javastor.api.core.v1.NodeStatus;
import io.javastor.api.core.v1.PoolServiceGrpc;
import io.javastor.api.core.v1.PoolStatus;
import io.javastor.api.core.v1.Replica;
import io.javastor.api.core.v1.ResizeVolumeRequest;
import io.javastor.api.core.v1.SetVolumeReplicaCountRequest;
import io.javastor.api.core.v1.UncordonNodeRequest;
import io.javastor.api.core.v1.Volume;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.api.core.v1.VolumeStatus;
import io.javastor.api.core.v1.EventServiceGrpc;
import io.javastor.api.ioengine.v1.CreateNexusRequest;
import io.javastor.api.ioengine.v1.CreateReplicaRequest;
import io.javastor.api.ioengine.v1.ListNexusRequest;
import io.javastor.api.ioengine.v1.ListPoolsRequest;
import io.javastor.api.ioengine.v1.ListReplicasRequest;
import io.javastor.core.nexus.NexusSpec;
import io.javastor.core.pool.PoolSpec;
import io.javastor.core.replica.ReplicaSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.testsupport.AppHost;
import io.javastor.core.testsupport.EtcdExtension;
import io.javastor.testsupport.IoEngineProcess;
import io.javastor.core.testsupport.RunningAgent;
import io.javastor.core.testsupport.TestCluster;

/**
 * Volume operations end to end: one core agent, three real io-engine processes with pools on
 * files (io_uring), everything over gRPC. What the agent says is checked against what the
 * io-engines report.
 */
class VolumeLifecycleTest {

    @RegisterExtension
    static final EtcdExtension etcd = new EtcdExtension();

    private static final long MIB = 1 << 20;
    private static final String CLUSTER = "volumes";
    private static Path dir;
    private static RunningAgent agent;
    private static TestCluster cluster;
    private static List<IoEngineProcess> nodes;
    private static SpecStore previousAgent;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = TestCluster.start(etcd.endpoint(), new TestCluster.Settings(CLUSTER, "agent-volumes", Map.of(
                "javastor.core.reconcile.orphan-grace", "2s", "javastor.core.nodes.heartbeat-timeout", "3s",
                "javastor.core.nodes.state-poll-interval", "500ms"), 3, 128, Map.of("class", "file")));
        agent = cluster.agent();
        nodes = cluster.nodes();
        dir = cluster.dir();
        previousAgent = cluster.specs();
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static CreatePoolRequest poolRequest(String node) {
        return CreatePoolRequest.newBuilder().setId("pool-" + node).setNodeId(node)
                .addDisks("uring://" + dir.resolve(node + ".img") + "?size_mb=128").putLabels("class", "file").build();
    }

    /** The volume as the whole listing shows it. */
    private static Volume listed(String uuid) {
        return volumes().listVolumes(io.javastor.api.core.v1.ListVolumesRequest.getDefaultInstance()).getVolumesList().stream()
                .filter(v -> v.getUuid().equals(uuid)).findFirst().orElseThrow(() -> new AssertionError("volume " + uuid + " is not listed"));
    }

    private static VolumeServiceGrpc.VolumeServiceBlockingStub volumes() {
        return VolumeServiceGrpc.newBlockingStub(agent.channel());
    }

    private static CreateVolumeRequest volume(String uuid, long size, int replicas, boolean thin) {
        return VolumeClusterCalls.volume(uuid, size, replicas, thin);
    }

    private static IoEngineProcess node(String name) {
        return VolumeClusterCalls.node(nodes, name);
    }

    /** The replicas of a volume as the io-engines report them: node name -> io-engine replica. */
    private static Map<String, io.javastor.api.ioengine.v1.Replica> onEngines(Volume v) {
        Map<String, io.javastor.api.ioengine.v1.Replica> out = new java.util.HashMap<>();
        for (Replica r : v.getReplicasList()) {
            List<io.javastor.api.ioengine.v1.Replica> found = node(r.getNodeId()).api().replicas().listReplicas(ListReplicasRequest.newBuilder().setUuid(r.getUuid()).build()).getReplicasList();
            found.forEach(f -> out.put(r.getNodeId(), f));
        }
        return out;
    }

    private static boolean existsOnAnyEngine(String replicaUuid) {
        return VolumeClusterCalls.existsOnAnyEngine(nodes, replicaUuid);
    }

    private static void expect(Status.Code code, String messagePart, Runnable call) {
        VolumeClusterCalls.expect(code, messagePart, call);
    }

    @Test
    void poolsAreCreatedIdempotentlyAndReportedOnline() {
        var pools = PoolServiceGrpc.newBlockingStub(agent.channel());
        var again = pools.createPool(poolRequest("node-1"));
        assertThat(again.getOperation()).isEqualTo(io.javastor.api.core.v1.OperationStatus.OPERATION_STATUS_CREATED);
        assertThat(again.getStatus()).isEqualTo(PoolStatus.POOL_STATUS_ONLINE);
        assertThat(again.getCapacity()).isPositive();
        expect(Status.Code.ALREADY_EXISTS, "pool pool-node-1: exists with a different spec",
                () -> pools.createPool(poolRequest("node-1").toBuilder().clearDisks().addDisks("malloc:///other?size_mb=8").build()));
        assertThat(node("node-2").api().pools().listPools(ListPoolsRequest.newBuilder().setName("pool-node-2").build()).getPoolsList())
                .singleElement().satisfies(p -> assertThat(p.getDisksList().get(0)).contains("node-2.img"));
    }

    @Test
    void createPlacesReplicasOnDistinctNodesAndIsIdempotent() {
        String uuid = UUID.randomUUID().toString();
        Volume v = volumes().createVolume(volume(uuid, 16 * MIB, 2, false));
        assertThat(v.getOperation()).isEqualTo(io.javastor.api.core.v1.OperationStatus.OPERATION_STATUS_CREATED);
        assertThat(v.getReplicasList()).hasSize(2);
        assertThat(v.getReplicasList()).extracting(Replica::getNodeId).doesNotHaveDuplicates();
        assertThat(v.getStatus()).isEqualTo(VolumeStatus.VOLUME_STATUS_ONLINE);
        Map<String, io.javastor.api.ioengine.v1.Replica> engines = onEngines(v);
        assertThat(engines).hasSize(2);
        assertThat(engines.values()).allSatisfy(r -> {
            assertThat(r.getSize()).isEqualTo(16 * MIB);
            assertThat(r.getThin()).isFalse();
        });
        // The volume and its replicas were marked Created in one etcd transaction (one disk sync, not three).
        long volumeWritten = previousAgent.get(io.javastor.core.volume.VolumeSpec.KIND, uuid).orElseThrow().modRevision();
        assertThat(previousAgent.list(io.javastor.core.replica.ReplicaSpec.KIND)).filteredOn(r -> r.spec().volumeId().equals(uuid))
                .hasSize(2).allSatisfy(r -> {
                    assertThat(r.spec().operation()).isEqualTo(OperationStatus.CREATED);
                    assertThat(r.modRevision()).as("written with the volume").isEqualTo(volumeWritten);
                });

        Volume again = volumes().createVolume(volume(uuid, 16 * MIB, 2, false));
        assertThat(again.getReplicasList()).extracting(Replica::getUuid)
                .containsExactlyInAnyOrderElementsOf(v.getReplicasList().stream().map(Replica::getUuid).toList());
        expect(Status.Code.ALREADY_EXISTS, "volume " + uuid + ": exists with a different spec",
                () -> volumes().createVolume(volume(uuid, 32 * MIB, 2, false)));

        volumes().destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
        for (Replica r : v.getReplicasList()) {
            assertThat(existsOnAnyEngine(r.getUuid())).as("replica %s destroyed", r.getUuid()).isFalse();
        }
        expect(Status.Code.NOT_FOUND, "not found", () -> volumes().getVolume(GetVolumeRequest.newBuilder().setUuid(uuid).build()));
        volumes().destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build()); // again: still fine
    }

    @Test
    void resizeGrowsEveryReplicaAndNeverShrinks() {
        String uuid = UUID.randomUUID().toString();
        volumes().createVolume(volume(uuid, 8 * MIB, 3, false));
        Volume grown = volumes().resizeVolume(ResizeVolumeRequest.newBuilder().setUuid(uuid).setSize(24 * MIB).build());
        assertThat(grown.getSize()).isEqualTo(24 * MIB);
        assertThat(onEngines(grown).values()).hasSize(3).allSatisfy(r -> assertThat(r.getSize()).isEqualTo(24 * MIB));
        assertThat(volumes().resizeVolume(ResizeVolumeRequest.newBuilder().setUuid(uuid).setSize(24 * MIB).build()).getSize())
                .isEqualTo(24 * MIB);
        expect(Status.Code.INVALID_ARGUMENT, "size: volumes only grow",
                () -> volumes().resizeVolume(ResizeVolumeRequest.newBuilder().setUuid(uuid).setSize(8 * MIB).build()));
        expect(Status.Code.RESOURCE_EXHAUSTED, "growing needs",
                () -> volumes().resizeVolume(ResizeVolumeRequest.newBuilder().setUuid(uuid).setSize(1024 * MIB).build()));
        assertThat(volumes().getVolume(GetVolumeRequest.newBuilder().setUuid(uuid).build()).getSize()).isEqualTo(24 * MIB);
        volumes().destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
    }

    @Test
    void replicaCountGoesUpAndDown() {
        String uuid = UUID.randomUUID().toString();
        Volume one = volumes().createVolume(volume(uuid, 8 * MIB, 1, true));
        Volume three = volumes().setVolumeReplicaCount(SetVolumeReplicaCountRequest.newBuilder().setUuid(uuid).setReplicaCount(3).build());
        assertThat(three.getReplicaCount()).isEqualTo(3);
        assertThat(three.getReplicasList()).hasSize(3).extracting(Replica::getNodeId).containsExactlyInAnyOrder("node-1", "node-2", "node-3");
        assertThat(three.getReplicasList()).extracting(Replica::getUuid).contains(one.getReplicas(0).getUuid());
        assertThat(onEngines(three)).hasSize(3);
        assertThat(volumes().setVolumeReplicaCount(SetVolumeReplicaCountRequest.newBuilder().setUuid(uuid).setReplicaCount(3).build())
                .getReplicasList()).hasSize(3);
        expect(Status.Code.RESOURCE_EXHAUSTED, "found 0 suitable pool(s)",
                () -> volumes().setVolumeReplicaCount(SetVolumeReplicaCountRequest.newBuilder().setUuid(uuid).setReplicaCount(4).build()));
        expect(Status.Code.INVALID_ARGUMENT, "replica_count:",
                () -> volumes().setVolumeReplicaCount(SetVolumeReplicaCountRequest.newBuilder().setUuid(uuid).setReplicaCount(0).build()));

        Volume down = volumes().setVolumeReplicaCount(SetVolumeReplicaCountRequest.newBuilder().setUuid(uuid).setReplicaCount(1).build());
        assertThat(down.getReplicasList()).hasSize(1);
        Set<String> removed = new HashSet<>(three.getReplicasList().stream().map(Replica::getUuid).toList());
        removed.remove(down.getReplicas(0).getUuid());
        assertThat(removed).hasSize(2).allSatisfy(r -> assertThat(existsOnAnyEngine(r)).isFalse());
        assertThat(onEngines(down)).hasSize(1);
        volumes().destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
    }

    @Test
    void placementHonoursCordonsTopologyAndSpaceAndExplainsRejections() {
        var nodeApi = NodeServiceGrpc.newBlockingStub(agent.channel());
        nodeApi.cordonNode(CordonNodeRequest.newBuilder().setId("node-2").setLabel("test").build());
        try {
            String uuid = UUID.randomUUID().toString();
            Volume v = volumes().createVolume(volume(uuid, 8 * MIB, 2, false));
            assertThat(v.getReplicasList()).extracting(Replica::getNodeId).containsExactlyInAnyOrder("node-1", "node-3");
            volumes().destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());

            String big = UUID.randomUUID().toString();
            expect(Status.Code.RESOURCE_EXHAUSTED, "pool pool-node-2 on node node-2: node is cordoned",
                    () -> volumes().createVolume(volume(big, 8 * MIB, 3, false)));
            expect(Status.Code.RESOURCE_EXHAUSTED, "not enough free space",
                    () -> volumes().createVolume(volume(big, 4096 * MIB, 1, false)));
            expect(Status.Code.RESOURCE_EXHAUSTED, "pool lacks topology label class=ssd",
                    () -> volumes().createVolume(volume(big, 8 * MIB, 1, false).toBuilder()
                            .setTopology(io.javastor.api.core.v1.Topology.newBuilder().putPoolLabels("class", "ssd")).build()));
            // A failed create leaves nothing behind, on the agent or the nodes.
            expect(Status.Code.NOT_FOUND, "not found", () -> volumes().getVolume(GetVolumeRequest.newBuilder().setUuid(big).build()));
            assertThat(previousAgent.list(ReplicaSpec.KIND)).noneMatch(r -> r.spec().volumeId().equals(big));
        } finally {
            nodeApi.uncordonNode(UncordonNodeRequest.newBuilder().setId("node-2").setLabel("test").build());
        }
    }

    @Test
    void concurrentIdenticalCreatesAreSerializedIntoOneVolume() throws Exception {
        String uuid = UUID.randomUUID().toString();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Volume>> results = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                Callable<Volume> create = () -> volumes().createVolume(volume(uuid, 8 * MIB, 2, true));
                results.add(pool.submit(create));
            }
            Set<Set<String>> replicaSets = new HashSet<>();
            for (Future<Volume> f : results) {
                replicaSets.add(new HashSet<>(f.get(60, TimeUnit.SECONDS).getReplicasList().stream().map(Replica::getUuid).toList()));
            }
            assertThat(replicaSets).hasSize(1);
            assertThat(previousAgent.list(ReplicaSpec.KIND).stream().filter(r -> r.spec().volumeId().equals(uuid))).hasSize(2);
        } finally {
            pool.shutdownNow();
        }
        volumes().destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
    }

    @Test
    void poolInUseCannotBeDestroyed() {
        String uuid = UUID.randomUUID().toString();
        Volume v = volumes().createVolume(volume(uuid, 8 * MIB, 1, false));
        String pool = v.getReplicas(0).getPoolId();
        expect(Status.Code.FAILED_PRECONDITION, "pool " + pool + ": holds replicas",
                () -> PoolServiceGrpc.newBlockingStub(agent.channel()).destroyPool(DestroyPoolRequest.newBuilder().setId(pool).build()));
        volumes().destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
    }

    @Test
    void leftoversOfACrashedAgentAreRolledBackOnTheNodesToo() {
        // A previous agent wrote the volume spec, created one replica on node-1 and died.
        String uuid = UUID.randomUUID().toString();
        String replica = UUID.randomUUID().toString();
        node("node-1").api().replicas().createReplica(CreateReplicaRequest.newBuilder().setUuid(replica).setPool("pool-node-1").setSize(8 * MIB).build());
        previousAgent.create(ReplicaSpec.KIND, new ReplicaSpec(replica, "pool-node-1", "node-1", 8 * MIB, false, uuid, OperationStatus.CREATED));
        previousAgent.create(VolumeSpec.KIND, new VolumeSpec(uuid, 8 * MIB, 2, false, Topology.ANY, "", OperationStatus.CREATING));
        await().atMost(Duration.ofSeconds(10)).until(() -> previousAgent.get(VolumeSpec.KIND, uuid).isEmpty());
        assertThat(previousAgent.get(ReplicaSpec.KIND, replica)).isEmpty();
        assertThat(existsOnAnyEngine(replica)).isFalse();
    }

    /**
     * NexusSpecRecovery: a previous agent made a volume's target on its node and died with the target spec left
     * Creating (a publish cut short before the URI was handed out) or Deleting (an unpublish cut short). Either way the
     * agent destroys the nexus on the node and drops the spec by itself; the volume is unpublished and publishes again.
     */
    @Test
    void targetsLeftCreatingOrDeletingByACrashedAgentAreRemovedFromTheirNodes() {
        for (OperationStatus leftAs : List.of(OperationStatus.CREATING, OperationStatus.DELETING)) {
            String uuid = UUID.randomUUID().toString();
            Replica replica = volumes().createVolume(volume(uuid, 8 * MIB, 1, true)).getReplicas(0);
            String nodeId = replica.getNodeId();
            String child = "bdev:///" + replica.getUuid();
            node(nodeId).api().nexuses().createNexus(CreateNexusRequest.newBuilder().setUuid(uuid).setSize(8 * MIB).addChildren(child).build());
            previousAgent.create(NexusSpec.KIND, new NexusSpec(uuid, nodeId, List.of(new NexusSpec.Child(replica.getUuid(), nodeId, child, false)),
                    List.of(AppHost.TEST_HOST.nqn()), "", leftAs));

            await("target spec left " + leftAs + " removed").atMost(Duration.ofSeconds(20)).until(() -> previousAgent.get(NexusSpec.KIND, uuid).isEmpty());
            assertThat(node(nodeId).api().nexuses().listNexus(ListNexusRequest.newBuilder().setUuid(uuid).build()).getNexusListCount())
                    .as("the nexus of a target left %s, on node %s", leftAs, nodeId).isZero();
            assertThat(volumes().getVolume(GetVolumeRequest.newBuilder().setUuid(uuid).build()).hasTarget()).as("published after recovery").isFalse();
            assertThat(volumes().publishVolume(AppHost.TEST_HOST.publish(uuid).build()).getTarget().getUri()).contains(uuid);
            volumes().destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
        }
    }

    @Test
    void aScaleDownCutShortByACrashIsFinished() {
        // The previous agent lowered the replica count to 1 and died before removing the second replica.
        String uuid = UUID.randomUUID().toString();
        Volume two = volumes().createVolume(volume(uuid, 8 * MIB, 2, true));
        var current = previousAgent.get(VolumeSpec.KIND, uuid).orElseThrow();
        previousAgent.update(VolumeSpec.KIND, current, current.spec().withReplicaCount(1));
        await().atMost(Duration.ofSeconds(10)).until(() ->
                previousAgent.list(ReplicaSpec.KIND).stream().filter(r -> r.spec().volumeId().equals(uuid)).count() == 1);
        assertThat(two.getReplicasList().stream().filter(r -> existsOnAnyEngine(r.getUuid()))).hasSize(1);
        assertThat(volumes().getVolume(GetVolumeRequest.newBuilder().setUuid(uuid).build()).getStatus()).isEqualTo(VolumeStatus.VOLUME_STATUS_ONLINE);
        volumes().destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
    }

    @Test
    void aPoolLeftCreatingIsResumed() {
        String disk = "uring://" + dir.resolve("node-3-extra.img") + "?size_mb=64";
        previousAgent.create(PoolSpec.KIND, new PoolSpec("pool-extra", "node-3", List.of(disk), Map.of(), OperationStatus.CREATING));
        await().atMost(Duration.ofSeconds(10)).until(() ->
                previousAgent.get(PoolSpec.KIND, "pool-extra").orElseThrow().spec().operation() == OperationStatus.CREATED);
        assertThat(node("node-3").api().pools().listPools(ListPoolsRequest.newBuilder().setName("pool-extra").build()).getPoolsList()).hasSize(1);
        PoolServiceGrpc.newBlockingStub(agent.channel()).destroyPool(DestroyPoolRequest.newBuilder().setId("pool-extra").build());
        assertThat(node("node-3").api().pools().listPools(ListPoolsRequest.newBuilder().setName("pool-extra").build()).getPoolsList()).isEmpty();
        expect(Status.Code.NOT_FOUND, "not found",
                () -> PoolServiceGrpc.newBlockingStub(agent.channel()).getPool(GetPoolRequest.newBuilder().setId("pool-extra").build()));
    }

    @Test
    void anOrphanReplicaIsDestroyedAfterTheGracePeriod() {
        String orphan = UUID.randomUUID().toString();
        node("node-2").api().replicas().createReplica(CreateReplicaRequest.newBuilder().setUuid(orphan).setPool("pool-node-2").setSize(4 * MIB).setThin(true).build());
        await().atMost(Duration.ofSeconds(15)).until(() -> !existsOnAnyEngine(orphan));
        // The event is written just after the replica is gone: wait for it, then check there is exactly one.
        await().atMost(Duration.ofSeconds(15)).until(() -> EventServiceGrpc.newBlockingStub(agent.channel()).listEvents(ListEventsRequest.newBuilder()
                .setResourceId(orphan).setKind("OrphanReplicaDestroyed").build()).getTotal() >= 1);
        assertThat(EventServiceGrpc.newBlockingStub(agent.channel()).listEvents(ListEventsRequest.newBuilder()
                .setResourceId(orphan).setKind("OrphanReplicaDestroyed").build()).getTotal()).isEqualTo(1);
    }

    @Test
    void aReplicaLostOnItsNodeIsReportedAndTheVolumeDegrades() {
        String uuid = UUID.randomUUID().toString();
        Volume v = volumes().createVolume(volume(uuid, 8 * MIB, 2, true));
        Replica lost = v.getReplicas(0);
        // Listed before (the agent keeps the listing while nothing changes): the loss, reported by the node only, must show.
        assertThat(listed(uuid).getReplicasList()).filteredOn(r -> r.getUuid().equals(lost.getUuid())).singleElement()
                .satisfies(r -> assertThat(r.getPresent()).isTrue());
        node(lost.getNodeId()).api().replicas().destroyReplica(io.javastor.api.ioengine.v1.DestroyReplicaRequest.newBuilder().setUuid(lost.getUuid()).build());
        await().atMost(Duration.ofSeconds(10)).until(() -> EventServiceGrpc.newBlockingStub(agent.channel()).listEvents(
                ListEventsRequest.newBuilder().setResourceId(lost.getUuid()).setKind("ReplicaMissing").build()).getTotal() == 1);
        for (Volume now : List.of(volumes().getVolume(GetVolumeRequest.newBuilder().setUuid(uuid).build()), listed(uuid))) {
            assertThat(now.getStatus()).isEqualTo(VolumeStatus.VOLUME_STATUS_DEGRADED);
            assertThat(now.getReplicasList()).filteredOn(r -> r.getUuid().equals(lost.getUuid())).singleElement()
                    .satisfies(r -> assertThat(r.getPresent()).isFalse());
        }
        volumes().destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
    }

    @Test
    void publishCreatesANexusOverTheReplicasAndUnpublishRemovesIt() {
        String uuid = UUID.randomUUID().toString();
        Volume v = volumes().createVolume(volume(uuid, 8 * MIB, 2, true));
        // A volume is never published to every host, nor to something that is not a host NQN: refused, nothing made.
        expect(Status.Code.INVALID_ARGUMENT, "allowed_hosts: name the hosts that may connect",
                () -> volumes().publishVolume(io.javastor.api.core.v1.PublishVolumeRequest.newBuilder().setUuid(uuid).build()));
        expect(Status.Code.INVALID_ARGUMENT, "'host-1,dhchap_secret=x' is not a host NQN",
                () -> volumes().publishVolume(io.javastor.api.core.v1.PublishVolumeRequest.newBuilder().setUuid(uuid)
                        .addAllowedHosts("host-1,dhchap_secret=x").build()));
        assertThat(volumes().getVolume(io.javastor.api.core.v1.GetVolumeRequest.newBuilder().setUuid(uuid).build()).hasTarget()).isFalse();
        assertThat(nodes).allSatisfy(n -> assertThat(n.api().nexuses().listNexus(io.javastor.api.ioengine.v1.ListNexusRequest.newBuilder()
                .setUuid(uuid).build()).getNexusListList()).as("nexuses on " + n.name()).isEmpty());
        Volume published = volumes().publishVolume(AppHost.TEST_HOST.publish(uuid).build());
        String target = published.getTarget().getNodeId();
        // Preferably a node holding a replica.
        assertThat(v.getReplicasList()).extracting(Replica::getNodeId).contains(target);
        assertThat(published.getTarget().getUri()).startsWith("nvmf://").contains(uuid);
        var nexus = node(target).api().nexuses().listNexus(io.javastor.api.ioengine.v1.ListNexusRequest.newBuilder().setUuid(uuid).build())
                .getNexusListList();
        assertThat(nexus).singleElement().satisfies(n -> {
            assertThat(n.getDeviceUri()).isEqualTo(published.getTarget().getUri());
            assertThat(n.getChildrenList()).hasSize(2).allSatisfy(c ->
                    assertThat(c.getState()).isEqualTo(io.javastor.api.ioengine.v1.ChildState.CHILD_STATE_ONLINE));
            assertThat(n.getChildrenList()).extracting(c -> c.getUri().substring(0, 4)).containsExactlyInAnyOrder("bdev", "nvmf");
        });
        // Idempotent; another node while published is a conflict.
        assertThat(volumes().publishVolume(AppHost.TEST_HOST.publish(uuid).build()).getTarget())
                .isEqualTo(published.getTarget());
        String other = nodes.stream().map(IoEngineProcess::name).filter(n -> !n.equals(target)).findFirst().orElseThrow();
        expect(Status.Code.FAILED_PRECONDITION, "published on node " + target,
                () -> volumes().publishVolume(AppHost.TEST_HOST.publish(uuid).setPreferredNodeId(other).build()));

        Volume unpublished = volumes().unpublishVolume(io.javastor.api.core.v1.UnpublishVolumeRequest.newBuilder().setUuid(uuid).build());
        assertThat(unpublished.hasTarget()).isFalse();
        assertThat(node(target).api().nexuses().listNexus(io.javastor.api.ioengine.v1.ListNexusRequest.newBuilder().setUuid(uuid).build())
                .getNexusListList()).isEmpty();
        assertThat(onEngines(unpublished).values()).allSatisfy(r ->
                assertThat(r.getShare()).isEqualTo(io.javastor.api.ioengine.v1.ShareProtocol.SHARE_PROTOCOL_NONE));
        volumes().unpublishVolume(io.javastor.api.core.v1.UnpublishVolumeRequest.newBuilder().setUuid(uuid).build()); // again: fine

        // On a node without a replica: both children remote. Destroying the published volume removes the nexus first.
        String bare = nodes.stream().map(IoEngineProcess::name).filter(n -> v.getReplicasList().stream().noneMatch(r -> r.getNodeId().equals(n)))
                .findFirst().orElseThrow();
        Volume remote = volumes().publishVolume(new AppHost("nqn.2019-05.io.javastor:node-name:app-host").publish(uuid)
                .setPreferredNodeId(bare).build());
        assertThat(remote.getTarget().getNodeId()).isEqualTo(bare);
        assertThat(node(bare).api().nexuses().listNexus(io.javastor.api.ioengine.v1.ListNexusRequest.newBuilder().setUuid(uuid).build())
                .getNexusList(0).getChildrenList()).extracting(c -> c.getUri().substring(0, 4)).containsExactly("nvmf", "nvmf");
        volumes().destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
        assertThat(node(bare).api().nexuses().listNexus(io.javastor.api.ioengine.v1.ListNexusRequest.newBuilder().setUuid(uuid).build())
                .getNexusListList()).isEmpty();
        assertThat(v.getReplicasList()).allSatisfy(r -> assertThat(existsOnAnyEngine(r.getUuid())).isFalse());
    }

    @Test
    void aPublishedVolumeGrowsItsReplicasThenItsNexusAndAResizeCutShortIsCompletedByTheNextCall() {
        String uuid = UUID.randomUUID().toString();
        Volume v = volumes().createVolume(volume(uuid, 16 * MIB, 3, false));
        String target = volumes().publishVolume(AppHost.TEST_HOST.publish(uuid).build())
                .getTarget().getNodeId();
        java.util.function.Supplier<io.javastor.api.ioengine.v1.Nexus> nexus = () -> node(target).api().nexuses().listNexus(
                io.javastor.api.ioengine.v1.ListNexusRequest.newBuilder().setUuid(uuid).build()).getNexusList(0);
        assertThat(nexus.get().getSize()).isEqualTo(16 * MIB);

        Volume grown = volumes().resizeVolume(ResizeVolumeRequest.newBuilder().setUuid(uuid).setSize(24 * MIB).build());
        assertThat(grown.getSize()).isEqualTo(24 * MIB);
        assertThat(grown.getTarget().getNodeId()).as("still published where it was").isEqualTo(target);
        assertThat(onEngines(grown).values()).hasSize(3).allSatisfy(r -> assertThat(r.getSize()).isEqualTo(24 * MIB));
        assertThat(nexus.get().getSize()).isEqualTo(24 * MIB);
        assertThat(nexus.get().getState()).isEqualTo(io.javastor.api.ioengine.v1.NexusState.NEXUS_STATE_ONLINE);
        assertThat(volumes().resizeVolume(ResizeVolumeRequest.newBuilder().setUuid(uuid).setSize(24 * MIB).build()).getSize())
                .as("idempotent").isEqualTo(24 * MIB);
        expect(Status.Code.INVALID_ARGUMENT, "size: volumes only grow",
                () -> volumes().resizeVolume(ResizeVolumeRequest.newBuilder().setUuid(uuid).setSize(16 * MIB).build()));

        // Cut short half way, as when the agent dies between steps: one replica already grew on its io-engine, and the
        // nexus refuses to grow past the others (FAILED_PRECONDITION naming the small child); the volume is unchanged.
        Replica first = v.getReplicas(0);
        node(first.getNodeId()).api().replicas().resizeReplica(io.javastor.api.ioengine.v1.ResizeReplicaRequest.newBuilder()
                .setUuid(first.getUuid()).setRequestedSize(40 * MIB).build());
        StatusRuntimeException tooSmall = org.assertj.core.api.Assertions.catchThrowableOfType(StatusRuntimeException.class, () -> node(target).api().nexuses().resizeNexus(io.javastor.api.ioengine.v1.ResizeNexusRequest.newBuilder().setUuid(uuid).setRequestedSize(40 * MIB).build()));
        assertThat(tooSmall.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(tooSmall.getStatus().getDescription()).contains("resize its replica first");
        assertThat(volumes().getVolume(GetVolumeRequest.newBuilder().setUuid(uuid).build()).getSize()).isEqualTo(24 * MIB);
        assertThat(nexus.get().getSize()).isEqualTo(24 * MIB);
        // The next call completes it: the grown replica is left as it is, the others and then the nexus grow.
        Volume completed = volumes().resizeVolume(ResizeVolumeRequest.newBuilder().setUuid(uuid).setSize(40 * MIB).build());
        assertThat(completed.getSize()).isEqualTo(40 * MIB);
        assertThat(onEngines(completed).values()).hasSize(3).allSatisfy(r -> assertThat(r.getSize()).isEqualTo(40 * MIB));
        assertThat(nexus.get().getSize()).isEqualTo(40 * MIB);
        assertThat(nexus.get().getChildrenList()).hasSize(3).allSatisfy(c ->
                assertThat(c.getState()).isEqualTo(io.javastor.api.ioengine.v1.ChildState.CHILD_STATE_ONLINE));
        assertThat(EventServiceGrpc.newBlockingStub(agent.channel()).listEvents(ListEventsRequest.newBuilder()
                .setResourceId(uuid).setKind("VolumeResized").build()).getTotal()).isEqualTo(2);
        // Cut short after the nexus grew (the spec write lost): the next call finds nothing left but the spec.
        for (Replica r : completed.getReplicasList()) {
            node(r.getNodeId()).api().replicas().resizeReplica(io.javastor.api.ioengine.v1.ResizeReplicaRequest.newBuilder()
                    .setUuid(r.getUuid()).setRequestedSize(48 * MIB).build());
        }
        node(target).api().nexuses().resizeNexus(io.javastor.api.ioengine.v1.ResizeNexusRequest.newBuilder().setUuid(uuid).setRequestedSize(48 * MIB).build());
        assertThat(volumes().resizeVolume(ResizeVolumeRequest.newBuilder().setUuid(uuid).setSize(48 * MIB).build()).getSize()).isEqualTo(48 * MIB);
        assertThat(nexus.get().getSize()).isEqualTo(48 * MIB);
        volumes().destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
    }

    @Test
    void listVolumesPagesInUuidOrder() {
        List<String> made = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String uuid = UUID.randomUUID().toString();
            volumes().createVolume(volume(uuid, 4 * MIB, 1, true));
            made.add(uuid);
        }
        try {
            var whole = volumes().listVolumes(io.javastor.api.core.v1.ListVolumesRequest.getDefaultInstance());
            List<String> all = whole.getVolumesList().stream().map(Volume::getUuid).toList();
            assertThat(all).containsAll(made).isSorted();
            assertThat(whole.hasNextToken()).isFalse();
            List<String> paged = new ArrayList<>();
            long token = 0;
            while (true) {
                var page = volumes().listVolumes(io.javastor.api.core.v1.ListVolumesRequest.newBuilder().setMaxEntries(1)
                        .setStartingToken(token).build());
                assertThat(page.getVolumesCount()).isEqualTo(1);
                paged.add(page.getVolumes(0).getUuid());
                if (!page.hasNextToken()) {
                    break;
                }
                assertThat(page.getNextToken()).isGreaterThan(token);
                token = page.getNextToken();
            }
            assertThat(paged).isEqualTo(all);
            var beyond = volumes().listVolumes(io.javastor.api.core.v1.ListVolumesRequest.newBuilder().setMaxEntries(2)
                    .setStartingToken(all.size()).build());
            assertThat(beyond.getVolumesCount()).isZero();
            assertThat(beyond.hasNextToken()).isFalse();
            expect(Status.Code.INVALID_ARGUMENT, "starting_token", () -> volumes().listVolumes(
                    io.javastor.api.core.v1.ListVolumesRequest.newBuilder().setStartingToken(-1).build()));
        } finally {
            made.forEach(u -> volumes().destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(u).build()));
        }
    }

    /** The google.rpc.ErrorInfo reason an error carries (core.proto's header). */
    private static com.google.rpc.ErrorInfo errorInfo(StatusRuntimeException e) throws Exception {
        var detailed = io.grpc.protobuf.StatusProto.fromThrowable(e);
        assertThat(detailed).as("rich status of %s", e).isNotNull();
        for (var any : detailed.getDetailsList()) {
            if (any.is(com.google.rpc.ErrorInfo.class)) {
                return any.unpack(com.google.rpc.ErrorInfo.class);
            }
        }
        throw new AssertionError("no ErrorInfo in " + e);
    }

    @Test
    void standaloneReplicasAreCreatedSharedAndDestroyedButAVolumesReplicaIsInUse() throws Exception {
        var replicaApi = io.javastor.api.core.v1.ReplicaServiceGrpc.newBlockingStub(agent.channel());
        String uuid = UUID.randomUUID().toString();
        var create = io.javastor.api.core.v1.CreateReplicaRequest.newBuilder().setUuid(uuid).setNodeId("node-1").setPoolId("pool-node-1")
                .setSize(4 * MIB).setThin(true).build();
        Replica made = replicaApi.createReplica(create);
        assertThat(made.getVolumeId()).isEmpty();
        assertThat(made.getOperation()).isEqualTo(io.javastor.api.core.v1.OperationStatus.OPERATION_STATUS_CREATED);
        assertThat(existsOnAnyEngine(uuid)).isTrue();
        assertThat(replicaApi.createReplica(create).getUuid()).isEqualTo(uuid);
        expect(Status.Code.ALREADY_EXISTS, "different spec", () -> replicaApi.createReplica(create.toBuilder().setSize(8 * MIB).build()));
        expect(Status.Code.NOT_FOUND, "pool pool-node-1 on node node-2", () -> replicaApi.createReplica(
                create.toBuilder().setUuid(UUID.randomUUID().toString()).setNodeId("node-2").build()));
        expect(Status.Code.INVALID_ARGUMENT, "size", () -> replicaApi.createReplica(
                create.toBuilder().setUuid(UUID.randomUUID().toString()).setSize(0).build()));

        // Never to every host (each named host authenticates with its own pair).
        expect(Status.Code.INVALID_ARGUMENT, "allowed_hosts", () -> replicaApi.shareReplica(
                io.javastor.api.core.v1.ShareReplicaRequest.newBuilder().setUuid(uuid).build()));
        var share = io.javastor.api.core.v1.ShareReplicaRequest.newBuilder().setUuid(uuid).addAllowedHosts("nqn.2019-05.io.javastor:node-name:node-2").build();
        Replica shared = replicaApi.shareReplica(share);
        assertThat(shared.getUri()).startsWith("nvmf://");
        assertThat(replicaApi.shareReplica(share).getUri()).isEqualTo(shared.getUri());
        Replica unshared = replicaApi.unshareReplica(io.javastor.api.core.v1.UnshareReplicaRequest.newBuilder().setUuid(uuid).build());
        assertThat(unshared.getUri()).startsWith("bdev:///");

        var destroy = io.javastor.api.core.v1.DestroyReplicaRequest.newBuilder().setUuid(uuid).build();
        replicaApi.destroyReplica(destroy);
        assertThat(existsOnAnyEngine(uuid)).isFalse();
        replicaApi.destroyReplica(destroy); // gone: still fine

        String volumeUuid = UUID.randomUUID().toString();
        Volume v = volumes().createVolume(volume(volumeUuid, 4 * MIB, 1, true));
        try {
            String owned = v.getReplicas(0).getUuid();
            StatusRuntimeException inUse = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                    () -> replicaApi.destroyReplica(io.javastor.api.core.v1.DestroyReplicaRequest.newBuilder().setUuid(owned).build()));
            assertThat(inUse.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
            assertThat(inUse.getStatus().getDescription()).contains(volumeUuid);
            var info = errorInfo(inUse);
            assertThat(info.getReason()).isEqualTo("InUse");
            assertThat(info.getDomain()).isEqualTo("javastor.io");
            assertThat(info.getMetadataMap()).containsEntry("volume", volumeUuid);
            assertThat(existsOnAnyEngine(owned)).isTrue();
            StatusRuntimeException missing = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                    () -> volumes().getVolume(GetVolumeRequest.newBuilder().setUuid(UUID.randomUUID().toString()).build()));
            assertThat(errorInfo(missing).getReason()).isEqualTo("NotFound");
        } finally {
            volumes().destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(volumeUuid).build());
        }
    }

    @Test
    void poolLabelsSteerPlacementAndADrainedNodeTakesNoReplicas() {
        var poolApi = PoolServiceGrpc.newBlockingStub(agent.channel());
        var nodeApi = NodeServiceGrpc.newBlockingStub(agent.channel());
        var labelled = poolApi.setPoolLabels(io.javastor.api.core.v1.SetPoolLabelsRequest.newBuilder().setId("pool-node-2")
                .putLabels("tier", "gold").build());
        assertThat(labelled.getLabelsMap()).containsEntry("tier", "gold").containsEntry("class", "file");
        String uuid = UUID.randomUUID().toString();
        try {
            Volume v = volumes().createVolume(volume(uuid, 4 * MIB, 1, true).toBuilder()
                    .setTopology(io.javastor.api.core.v1.Topology.newBuilder().putPoolLabels("tier", "gold")).build());
            assertThat(v.getReplicas(0).getPoolId()).isEqualTo("pool-node-2");
            volumes().destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
        } finally {
            var cleared = poolApi.setPoolLabels(io.javastor.api.core.v1.SetPoolLabelsRequest.newBuilder().setId("pool-node-2")
                    .putLabels("tier", "").build());
            assertThat(cleared.getLabelsMap()).doesNotContainKey("tier").containsEntry("class", "file");
        }
        expect(Status.Code.NOT_FOUND, "pool none", () -> poolApi.setPoolLabels(
                io.javastor.api.core.v1.SetPoolLabelsRequest.newBuilder().setId("none").putLabels("a", "b").build()));

        var drained = nodeApi.drainNode(io.javastor.api.core.v1.DrainNodeRequest.newBuilder().setId("node-2").setLabel("upgrade").build());
        try {
            assertThat(drained.getDrainLabelsList()).containsExactly("upgrade");
            // node-2 holds no target here, so there is nothing to wait for.
            assertThat(drained.getDrainState()).isEqualTo(io.javastor.api.core.v1.DrainState.DRAIN_STATE_DRAINED);
            expect(Status.Code.ALREADY_EXISTS, "drain label", () -> nodeApi.cordonNode(
                    CordonNodeRequest.newBuilder().setId("node-2").setLabel("upgrade").build()));
            String big = UUID.randomUUID().toString();
            expect(Status.Code.RESOURCE_EXHAUSTED, "pool pool-node-2 on node node-2: node is cordoned",
                    () -> volumes().createVolume(volume(big, 4 * MIB, 3, true)));
        } finally {
            var back = nodeApi.uncordonNode(UncordonNodeRequest.newBuilder().setId("node-2").setLabel("upgrade").build());
            assertThat(back.getDrainLabelsList()).isEmpty();
            assertThat(back.getDrainState()).isEqualTo(io.javastor.api.core.v1.DrainState.DRAIN_STATE_NONE);
        }
    }
}

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
import org.junit.jupiter.api.BeforeEach;
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
import io.javastor.api.ioengine.v1.CreateReplicaRequest;
import io.javastor.api.ioengine.v1.ListPoolsRequest;
import io.javastor.api.ioengine.v1.ListReplicasRequest;
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
 * What the agent does when a node dies and comes back (it is killed with kill -9 here): its volumes degrade, a lost
 * replica is replaced and rebuilt (at once when there is room, once a node returns when there is not), and what was
 * destroyed meanwhile goes from the node when it returns. A cluster of its own: these tests kill nodes, which the
 * other volume tests must not see. Each test starts with every node Online and leaves them so.
 */
class NodeLossTest {

    @RegisterExtension
    static final EtcdExtension etcd = new EtcdExtension();

    private static final long MIB = 1 << 20;
    private static final String CLUSTER = "node-loss";
    private static Path dir;
    private static RunningAgent agent;
    private static TestCluster cluster;
    private static List<IoEngineProcess> nodes;
    private static SpecStore previousAgent;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = TestCluster.start(etcd.endpoint(), new TestCluster.Settings(CLUSTER, "agent-node-loss", Map.of(
                "javastor.core.reconcile.orphan-grace", "2s", "javastor.core.nodes.heartbeat-timeout", "3s",
                "javastor.core.nodes.state-poll-interval", "500ms"), 3, 128, Map.of("class", "file")));
        agent = cluster.agent();
        nodes = cluster.nodes();
        dir = cluster.dir();
        previousAgent = cluster.specs();
    }

    @BeforeEach
    void everyNodeOnline() {
        cluster.awaitOnline(nodes.stream().map(IoEngineProcess::name).toArray(String[]::new));
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
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

    private static boolean existsOnAnyEngine(String replicaUuid) {
        return VolumeClusterCalls.existsOnAnyEngine(nodes, replicaUuid);
    }

    private static void expect(Status.Code code, String messagePart, Runnable call) {
        VolumeClusterCalls.expect(code, messagePart, call);
    }

    @Test
    void aKilledNodeGoesOfflineItsVolumesDegradeAndDestroyWaitsForIt() throws Exception {
        String uuid = UUID.randomUUID().toString();
        Volume v = volumes().createVolume(volume(uuid, 8 * MIB, 3, true));
        assertThat(v.getStatus()).isEqualTo(VolumeStatus.VOLUME_STATUS_ONLINE);
        long importsBefore = EventServiceGrpc.newBlockingStub(agent.channel()).listEvents(ListEventsRequest.newBuilder()
                .setResourceId("pool-node-3").setKind("PoolImported").build()).getTotal();
        node("node-3").kill9();
        var nodeApi = NodeServiceGrpc.newBlockingStub(agent.channel());
        await().atMost(Duration.ofSeconds(10)).until(() ->
                nodeApi.getNode(GetNodeRequest.newBuilder().setId("node-3").build()).getStatus() == NodeStatus.NODE_STATUS_OFFLINE);
        Consumer<Volume> degraded = vol -> {
            assertThat(vol.getStatus()).isEqualTo(VolumeStatus.VOLUME_STATUS_DEGRADED);
            assertThat(vol.getReplicasList()).filteredOn(r -> r.getNodeId().equals("node-3")).singleElement()
                    .satisfies(r -> assertThat(r.getPresent()).isFalse());
        };
        degraded.accept(volumes().getVolume(GetVolumeRequest.newBuilder().setUuid(uuid).build()));
        // New volumes avoid it.
        expect(Status.Code.RESOURCE_EXHAUSTED, "pool pool-node-3 on node node-3: node is not Online",
                () -> volumes().createVolume(volume(UUID.randomUUID().toString(), 8 * MIB, 3, true)));
        // Destroy succeeds; the replica on the dead node stays Deleting until the node returns.
        volumes().destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
        String onDeadNode = v.getReplicasList().stream().filter(r -> r.getNodeId().equals("node-3")).findFirst().orElseThrow().getUuid();
        assertThat(previousAgent.get(ReplicaSpec.KIND, onDeadNode).orElseThrow().spec().operation()).isEqualTo(OperationStatus.DELETING);
        assertThat(previousAgent.list(ReplicaSpec.KIND)).filteredOn(r -> r.spec().volumeId().equals(uuid)).hasSize(1);

        // The node comes back knowing no pools: the agent imports its pool from the file, then destroys the replica there.
        node("node-3").start();
        await().atMost(Duration.ofSeconds(30)).until(() -> previousAgent.get(ReplicaSpec.KIND, onDeadNode).isEmpty());
        assertThat(existsOnAnyEngine(onDeadNode)).isFalse();
        assertThat(node("node-3").api().pools().listPools(ListPoolsRequest.newBuilder().setName("pool-node-3").build()).getPoolsList()).hasSize(1);
        assertThat(EventServiceGrpc.newBlockingStub(agent.channel()).listEvents(ListEventsRequest.newBuilder()
                .setResourceId("pool-node-3").setKind("PoolImported").build()).getTotal()).isEqualTo(importsBefore + 1);
    }

    private static List<io.javastor.api.ioengine.v1.NexusChild> nexusChildren(String nodeName, String uuid) {
        return node(nodeName).api().nexuses().listNexus(io.javastor.api.ioengine.v1.ListNexusRequest.newBuilder().setUuid(uuid).build())
                .getNexusList(0).getChildrenList();
    }

    private static boolean allOnline(List<io.javastor.api.ioengine.v1.NexusChild> children) {
        return children.stream().allMatch(c -> c.getState() == io.javastor.api.ioengine.v1.ChildState.CHILD_STATE_ONLINE);
    }

    @Test
    void aPublishedVolumeScalesThroughItsNexusAndALostReplicaIsReplacedAndRebuilt() throws Exception {
        String uuid = UUID.randomUUID().toString();
        Volume v = volumes().createVolume(volume(uuid, 16 * MIB, 2, false));
        String target = volumes().publishVolume(AppHost.TEST_HOST.publish(uuid).build())
                .getTarget().getNodeId();

        // Up: the third replica joins the nexus and is rebuilt.
        Volume three = volumes().setVolumeReplicaCount(SetVolumeReplicaCountRequest.newBuilder().setUuid(uuid).setReplicaCount(3).build());
        assertThat(three.getReplicasList()).hasSize(3);
        await().atMost(Duration.ofSeconds(30)).until(() -> nexusChildren(target, uuid).size() == 3 && allOnline(nexusChildren(target, uuid)));
        // Down: a replica leaves the nexus before it is destroyed.
        Volume two = volumes().setVolumeReplicaCount(SetVolumeReplicaCountRequest.newBuilder().setUuid(uuid).setReplicaCount(2).build());
        assertThat(two.getReplicasList()).hasSize(2);
        assertThat(two.getReplicasList()).extracting(Replica::getNodeId).as("the target keeps its local replica").contains(target);
        assertThat(nexusChildren(target, uuid)).hasSize(2);

        // Lose the node of the replica that is not local to the nexus.
        String victimNode = two.getReplicasList().stream().map(Replica::getNodeId).filter(n -> !n.equals(target)).findFirst().orElseThrow();
        String victimReplica = two.getReplicasList().stream().filter(r -> r.getNodeId().equals(victimNode)).findFirst().orElseThrow().getUuid();
        String spare = nodes.stream().map(IoEngineProcess::name).filter(n -> !n.equals(target) && !n.equals(victimNode)).findFirst().orElseThrow();
        node(victimNode).kill9();
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> EventServiceGrpc.newBlockingStub(agent.channel()).listEvents(
                    ListEventsRequest.newBuilder().setResourceId(uuid).setKind("ReplicaReplaced").build()).getTotal() == 1);
            assertThat(EventServiceGrpc.newBlockingStub(agent.channel()).listEvents(ListEventsRequest.newBuilder()
                    .setResourceId(victimReplica).setKind("ReplicaLost").build()).getTotal()).isEqualTo(1);
            await().atMost(Duration.ofSeconds(30)).until(() -> nexusChildren(target, uuid).size() == 2 && allOnline(nexusChildren(target, uuid)));
            Volume healed = volumes().getVolume(GetVolumeRequest.newBuilder().setUuid(uuid).build());
            assertThat(healed.getReplicasList()).filteredOn(r -> r.getOperation() == io.javastor.api.core.v1.OperationStatus.OPERATION_STATUS_CREATED)
                    .extracting(Replica::getNodeId).containsExactlyInAnyOrder(target, spare);
            await().atMost(Duration.ofSeconds(10)).until(() ->
                    volumes().getVolume(GetVolumeRequest.newBuilder().setUuid(uuid).build()).getStatus() == VolumeStatus.VOLUME_STATUS_ONLINE);
            // The rebuild into the replacement completed. Which node it landed on depends on which replica the
            // scale-down removed (the nexus-local one or not): it is the replica that was not there before the kill.
            java.util.Set<String> before = two.getReplicasList().stream().map(Replica::getUuid).collect(java.util.stream.Collectors.toSet());
            String replacement = healed.getReplicasList().stream()
                    .filter(r -> r.getOperation() == io.javastor.api.core.v1.OperationStatus.OPERATION_STATUS_CREATED)
                    .map(Replica::getUuid).filter(id -> !before.contains(id)).findFirst().orElseThrow();
            var history = node(target).api().nexuses().getRebuildHistory(io.javastor.api.ioengine.v1.RebuildHistoryRequest.newBuilder().setUuid(uuid).build());
            assertThat(history.getRecordsList()).anySatisfy(r -> {
                assertThat(r.getChildUri()).contains(replacement);
                assertThat(r.getState()).isEqualTo(io.javastor.api.ioengine.v1.RebuildState.REBUILD_STATE_COMPLETED);
            });
        } finally {
            node(victimNode).start();
        }
        // Back: the retired replica is destroyed on its node.
        await().atMost(Duration.ofSeconds(30)).until(() -> previousAgent.get(ReplicaSpec.KIND, victimReplica).isEmpty());
        assertThat(existsOnAnyEngine(victimReplica)).isFalse();
        volumes().destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
    }

    @Test
    void aLostReplicaWithNoRoomLeftIsReplacedOnceANodeReturns() throws Exception {
        String uuid = UUID.randomUUID().toString();
        Volume v = volumes().createVolume(volume(uuid, 8 * MIB, 3, true));
        String target = volumes().publishVolume(AppHost.TEST_HOST.publish(uuid).build())
                .getTarget().getNodeId();
        String victim = v.getReplicasList().stream().map(Replica::getNodeId).filter(n -> !n.equals(target)).findFirst().orElseThrow();
        await().atMost(Duration.ofSeconds(60)).until(() -> nexusChildren(target, uuid).size() == 3 && allOnline(nexusChildren(target, uuid)));
        node(victim).kill9();
        try {
            // Retired, but with three nodes and one gone there is no room for a third replica: the volume stays short.
            String lost = v.getReplicasList().stream().filter(r -> r.getNodeId().equals(victim)).findFirst().orElseThrow().getUuid();
            await().atMost(Duration.ofSeconds(60)).until(() -> previousAgent.get(ReplicaSpec.KIND, lost)
                    .map(r -> r.spec().operation() == OperationStatus.DELETING).orElse(false));
            await().atMost(Duration.ofSeconds(30)).until(() ->
                    volumes().getVolume(GetVolumeRequest.newBuilder().setUuid(uuid).build()).getStatus() == VolumeStatus.VOLUME_STATUS_DEGRADED);
        } finally {
            node(victim).start();
        }
        // Room again: the replacement is placed without any new loss, rebuilt, and the volume is whole.
        await().atMost(Duration.ofSeconds(120)).until(() -> EventServiceGrpc.newBlockingStub(agent.channel()).listEvents(
                ListEventsRequest.newBuilder().setResourceId(uuid).setKind("ReplicaReplaced").build()).getTotal() == 1);
        await().atMost(Duration.ofSeconds(120)).until(() -> nexusChildren(target, uuid).size() == 3 && allOnline(nexusChildren(target, uuid)));
        await().atMost(Duration.ofSeconds(60)).until(() ->
                volumes().getVolume(GetVolumeRequest.newBuilder().setUuid(uuid).build()).getStatus() == VolumeStatus.VOLUME_STATUS_ONLINE);
        assertThat(volumes().getVolume(GetVolumeRequest.newBuilder().setUuid(uuid).build()).getReplicasList())
                .filteredOn(r -> r.getOperation() == io.javastor.api.core.v1.OperationStatus.OPERATION_STATUS_CREATED).hasSize(3);
        volumes().destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
    }
}

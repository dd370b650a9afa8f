package io.javastor.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.etcd.jetcd.Client;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.javastor.api.core.v1.CordonNodeRequest;
import io.javastor.api.core.v1.CreatePoolRequest;
import io.javastor.api.core.v1.CreateVolumeRequest;
import io.javastor.api.core.v1.DeregisterRequest;
import io.javastor.api.core.v1.DestroyPoolRequest;
import io.javastor.api.core.v1.DestroyVolumeRequest;
import io.javastor.api.core.v1.EventServiceGrpc;
import io.javastor.api.core.v1.GetNodeRequest;
import io.javastor.api.core.v1.GetVolumeRequest;
import io.javastor.api.core.v1.ListEventsRequest;
import io.javastor.api.core.v1.ListSpecsRequest;
import io.javastor.api.core.v1.NodeServiceGrpc;
import io.javastor.api.core.v1.NodeStatus;
import io.javastor.api.core.v1.PoolServiceGrpc;
import io.javastor.api.core.v1.PublishVolumeRequest;
import io.javastor.api.core.v1.RegisterRequest;
import io.javastor.api.core.v1.RegisterResponse;
import io.javastor.api.core.v1.RegistrationGrpc;
import io.javastor.api.core.v1.SetNodeLabelsRequest;
import io.javastor.api.core.v1.SpecServiceGrpc;
import io.javastor.api.core.v1.UncordonNodeRequest;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.api.tls.ClusterPeer;
import io.javastor.core.leader.LeaderElection;
import io.javastor.core.replica.ReplicaSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.WriteFence;
import io.javastor.core.testsupport.EtcdExtension;
import io.javastor.testsupport.FreePorts;
import io.javastor.core.testsupport.RunningAgent;
import io.javastor.core.volume.Topology;
import io.javastor.core.volume.VolumeSpec;

/**
 * The agent as a whole over its gRPC API: registration and heartbeats, typed errors, crash
 * recovery of specs a previous agent left half-done, actuator endpoints. Nodes here are names
 * with an endpoint where nothing listens: what needs a real io-engine is in the io-engine tests.
 */
class CoreAgentApplicationTest {

    @RegisterExtension
    static final EtcdExtension etcd = new EtcdExtension();

    private static final String CLUSTER = "app-test";
    private static RunningAgent agent;
    private static Client etcdClient;
    /** Writes like a crashed previous agent would have left them (no fence: that agent is gone). */
    private static SpecStore previousAgent;

    @BeforeAll
    static void startAgent() {
        agent = RunningAgent.start(etcd.endpoint(), CLUSTER, "agent-app", Map.of());
        await().atMost(Duration.ofSeconds(10)).until(() -> agent.bean(LeaderElection.class).isLeader());
        etcdClient = etcd.client();
        previousAgent = new SpecStore(etcdClient.getKVClient(), CLUSTER, WriteFence.NONE, 5000);
    }

    @AfterAll
    static void stopAgent() throws Exception {
        if (agent != null) {
            agent.close();
        }
        if (etcdClient != null) {
            etcdClient.close();
        }
    }

    private static RegisterRequest registration(String node) {
        return RegisterRequest.newBuilder().setNodeId(node).setGrpcEndpoint("127.0.0.1:" + FreePorts.next())
                .setNodeNqn("nqn.2019-05.io.javastor:node-name:" + node).setVersion("0.1.0")
                .setNvmfEndpoint("127.0.0.1:8420").putLabels("zone", "a").build();
    }

    private static NodeStatus status(String node) {
        return NodeServiceGrpc.newBlockingStub(agent.channel()).getNode(GetNodeRequest.newBuilder().setId(node).build()).getStatus();
    }

    /** Registration calls as node {@code node}'s io-engine makes them: with its own certificate. */
    private static RegistrationGrpc.RegistrationBlockingStub registrationAs(String node) {
        return RegistrationGrpc.newBlockingStub(agent.channelAs(new ClusterPeer.Node(node)));
    }

    private static long events(String resourceId, String kind) {
        return EventServiceGrpc.newBlockingStub(agent.channel()).listEvents(ListEventsRequest.newBuilder()
                .setResourceId(resourceId).setKind(kind).build()).getTotal();
    }

    @Test
    void registrationHeartbeatTimeoutAndReturn() {
        var reg = registrationAs("node-hb");
        RegisterRequest node = registration("node-hb");
        RegisterResponse r = reg.register(node);
        assertThat(r.getHeartbeatIntervalMs()).isEqualTo(300);
        assertThat(status("node-hb")).isEqualTo(NodeStatus.NODE_STATUS_ONLINE);
        var spec = NodeServiceGrpc.newBlockingStub(agent.channel()).getNode(GetNodeRequest.newBuilder().setId("node-hb").build());
        assertThat(spec.getLabelsMap()).containsEntry("zone", "a");
        assertThat(spec.getGrpcEndpoint()).isEqualTo(node.getGrpcEndpoint());

        // Heartbeats keep it Online past the timeout...
        long until = System.nanoTime() + Duration.ofMillis(2500).toNanos();
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(300)).until(() -> {
            reg.register(node);
            assertThat(status("node-hb")).isEqualTo(NodeStatus.NODE_STATUS_ONLINE);
            return System.nanoTime() > until;
        });
        // ...and silence makes it Offline after the 1.5 s timeout.
        await().atMost(Duration.ofSeconds(10)).until(() -> status("node-hb") == NodeStatus.NODE_STATUS_OFFLINE);
        assertThat(events("node-hb", "NodeOffline")).isEqualTo(1);

        reg.register(node);
        assertThat(status("node-hb")).isEqualTo(NodeStatus.NODE_STATUS_ONLINE);
        assertThat(events("node-hb", "NodeOnline")).isEqualTo(2);
        assertThat(events("node-hb", "NodeRestarted")).as("a node that sends no instance id is never taken as restarted").isZero();

        reg.deregister(DeregisterRequest.newBuilder().setNodeId("node-hb").build());
        assertThat(status("node-hb")).isEqualTo(NodeStatus.NODE_STATUS_OFFLINE);
    }

    /**
     * An io-engine killed and started again before its heartbeats were missed never went Offline: its new instance
     * id is what tells the agent it restarted (once, not at every heartbeat), so its channel and inventory are renewed.
     */
    @Test
    void aNewInstanceIdBeforeTheTimeoutIsARestart() {
        var reg = registrationAs("node-rs");
        RegisterRequest first = registration("node-rs").toBuilder().setInstanceId("instance-1").build();
        reg.register(first);
        reg.register(first);
        assertThat(events("node-rs", "NodeOnline")).isEqualTo(1);
        assertThat(events("node-rs", "NodeRestarted")).as("heartbeats of the same process").isZero();

        reg.register(first.toBuilder().setInstanceId("instance-2").build());
        reg.register(first.toBuilder().setInstanceId("instance-2").build());
        assertThat(status("node-rs")).isEqualTo(NodeStatus.NODE_STATUS_ONLINE);
        assertThat(events("node-rs", "NodeRestarted")).isEqualTo(1);
        assertThat(events("node-rs", "NodeOnline")).as("it never went Offline").isEqualTo(1);

        reg.register(first.toBuilder().clearInstanceId().build());
        assertThat(events("node-rs", "NodeRestarted")).as("one that sends none now (a downgrade) restarted too").isEqualTo(2);
        reg.register(first.toBuilder().clearInstanceId().build());
        assertThat(events("node-rs", "NodeRestarted")).as("and it stays the same process").isEqualTo(2);
        reg.deregister(DeregisterRequest.newBuilder().setNodeId("node-rs").build());
    }

    @Test
    void aDeregistrationFromAnEarlierProcessLeavesTheRestartedNodeOnline() {
        var reg = registrationAs("node-dr");
        RegisterRequest first = registration("node-dr").toBuilder().setInstanceId("instance-1").build();
        reg.register(first);
        // Restarted, and the new process registered before the old one's last call (its deregistration) arrived.
        reg.register(first.toBuilder().setInstanceId("instance-2").build());
        reg.deregister(DeregisterRequest.newBuilder().setNodeId("node-dr").setInstanceId("instance-1").build());
        assertThat(status("node-dr")).as("the new process is the node now").isEqualTo(NodeStatus.NODE_STATUS_ONLINE);
        assertThat(events("node-dr", "NodeOffline")).isZero();

        reg.deregister(DeregisterRequest.newBuilder().setNodeId("node-dr").setInstanceId("instance-2").build());
        assertThat(status("node-dr")).as("the process that is the node stopped").isEqualTo(NodeStatus.NODE_STATUS_OFFLINE);
        assertThat(events("node-dr", "NodeOffline")).isEqualTo(1);

        reg.register(first.toBuilder().setInstanceId("instance-3").build());
        reg.deregister(DeregisterRequest.newBuilder().setNodeId("node-dr").build());
        assertThat(status("node-dr")).as("one that names no instance (an older io-engine) is whichever runs")
                .isEqualTo(NodeStatus.NODE_STATUS_OFFLINE);
        assertThat(events("node-dr", "NodeOffline")).isEqualTo(2);
    }

    @Test
    void aProcessALaterOneReplacedAsTheNodeIsRefusedSoTheNodeDoesNotFlipBetweenThem() {
        var reg = registrationAs("node-twice");
        RegisterRequest a = registration("node-twice").toBuilder().setInstanceId("instance-a").build();
        RegisterRequest b = a.toBuilder().setInstanceId("instance-b").build();
        reg.register(a);
        reg.register(b);
        assertThat(events("node-twice", "NodeRestarted")).isEqualTo(1);
        // The replaced process beats on (two io-engines running as one node): refused, saying why, and nothing changes.
        for (int i = 0; i < 3; i++) {
            assertThatThrownBy(() -> reg.register(a)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                assertThat(e.getStatus().getDescription()).startsWith("node node-twice: io-engine instance instance-a was replaced")
                        .contains("now instance instance-b", "same node id");
            });
            reg.register(b);
        }
        assertThat(events("node-twice", "NodeRestarted")).as("no flip back and forth").isEqualTo(1);
        assertThat(status("node-twice")).isEqualTo(NodeStatus.NODE_STATUS_ONLINE);
        // A later restart is one, as before.
        RegisterRequest c = a.toBuilder().setInstanceId("instance-c").build();
        reg.register(c);
        assertThat(events("node-twice", "NodeRestarted")).isEqualTo(2);
        assertThatThrownBy(() -> reg.register(b)).isInstanceOf(StatusRuntimeException.class);
        // The process that replaced it stops: an earlier one that still runs is the node again, not refused for ever.
        reg.deregister(DeregisterRequest.newBuilder().setNodeId("node-twice").setInstanceId("instance-c").build());
        assertThat(status("node-twice")).isEqualTo(NodeStatus.NODE_STATUS_OFFLINE);
        reg.register(b);
        assertThat(status("node-twice")).isEqualTo(NodeStatus.NODE_STATUS_ONLINE);
        reg.register(b);
    }

    @Test
    void badRegistrationNamesTheField() {
        var reg = registrationAs("node-x");
        // No certificate can name an id that is not a DNS name, so such an id is refused for the caller's identity.
        assertThatThrownBy(() -> reg.register(registration("Node_1")))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                    assertThat(e.getStatus().getDescription()).startsWith("node Node_1:").contains("node-x.node.javastor");
                });
        assertThatThrownBy(() -> reg.register(registration("node-x").toBuilder().setGrpcEndpoint("nohost").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
                        assertThat(e.getStatus().getDescription()).startsWith("grpc_endpoint:"));
    }

    @Test
    void cordonsAndLabelsAreKeptInTheNodeSpec() {
        registrationAs("node-cordon").register(registration("node-cordon"));
        var nodes = NodeServiceGrpc.newBlockingStub(agent.channel());
        assertThat(nodes.cordonNode(CordonNodeRequest.newBuilder().setId("node-cordon").setLabel("maintenance").build())
                .getCordonLabelsList()).containsExactly("maintenance");
        // Idempotent.
        assertThat(nodes.cordonNode(CordonNodeRequest.newBuilder().setId("node-cordon").setLabel("maintenance").build())
                .getCordonLabelsList()).containsExactly("maintenance");
        assertThat(nodes.setNodeLabels(SetNodeLabelsRequest.newBuilder().setId("node-cordon").putLabels("rack", "r1")
                .putLabels("zone", "").build()).getLabelsMap()).containsExactly(Map.entry("rack", "r1"));
        assertThat(nodes.uncordonNode(UncordonNodeRequest.newBuilder().setId("node-cordon").setLabel("maintenance").build())
                .getCordonLabelsList()).isEmpty();
        assertThatThrownBy(() -> nodes.cordonNode(CordonNodeRequest.newBuilder().setId("no-such-node").setLabel("x").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    }

    @Test
    void volumeErrorsAreTyped() {
        var volumes = VolumeServiceGrpc.newBlockingStub(agent.channel());
        String uuid = UUID.randomUUID().toString();
        assertThatThrownBy(() -> volumes.createVolume(CreateVolumeRequest.newBuilder().setUuid("not-a-uuid").setSize(1 << 20).setReplicaCount(1).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).startsWith("uuid:");
                });
        assertThatThrownBy(() -> volumes.createVolume(CreateVolumeRequest.newBuilder().setUuid(uuid).setSize(0).setReplicaCount(1).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getDescription()).startsWith("size:"));
        assertThatThrownBy(() -> volumes.createVolume(CreateVolumeRequest.newBuilder().setUuid(uuid).setSize(1 << 20).setReplicaCount(0).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getDescription()).startsWith("replica_count:"));
        // No pool anywhere: RESOURCE_EXHAUSTED, and nothing is left behind.
        assertThatThrownBy(() -> volumes.createVolume(CreateVolumeRequest.newBuilder().setUuid(uuid).setSize(1 << 20).setReplicaCount(2).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                    assertThat(e.getStatus().getDescription()).contains("volume " + uuid + ": needs 2 replica(s)");
                });
        assertThatThrownBy(() -> volumes.getVolume(GetVolumeRequest.newBuilder().setUuid(uuid).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
        // Destroying what does not exist succeeds (CSI retries deletes).
        volumes.destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
        assertThatThrownBy(() -> volumes.publishVolume(PublishVolumeRequest.newBuilder().setUuid(uuid).addAllowedHosts("nqn.2019-05.io.javastor:node-name:test-host").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    }

    @Test
    void poolErrorsAreTyped() {
        var pools = PoolServiceGrpc.newBlockingStub(agent.channel());
        assertThatThrownBy(() -> pools.createPool(CreatePoolRequest.newBuilder().setId("p1").setNodeId("ghost").addDisks("malloc:///p1?size_mb=8").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                    assertThat(e.getStatus().getDescription()).isEqualTo("node ghost: not found");
                });
        assertThatThrownBy(() -> pools.createPool(CreatePoolRequest.newBuilder().setId("p/1").setNodeId("ghost").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getDescription()).startsWith("id:"));
        pools.destroyPool(DestroyPoolRequest.newBuilder().setId("never-existed").build());
    }

    @Test
    void aVolumeLeftCreatingByACrashedAgentIsRolledBack() {
        String uuid = UUID.randomUUID().toString();
        previousAgent.create(VolumeSpec.KIND, new VolumeSpec(uuid, 1 << 20, 1, false, Topology.ANY, "", OperationStatus.CREATING));
        // Waited for in etcd: the agent's API may answer from its copy before the watch brought it this unfenced write.
        await().atMost(Duration.ofSeconds(30)).until(() -> previousAgent.get(VolumeSpec.KIND, uuid).isEmpty());
        assertThat(events(uuid, "VolumeCreateRolledBack")).isEqualTo(1);
        var volumes = VolumeServiceGrpc.newBlockingStub(agent.channel());
        assertThatThrownBy(() -> volumes.getVolume(GetVolumeRequest.newBuilder().setUuid(uuid).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    }

    @Test
    void aVolumeLeftDeletingIsFinishedAndItsUnreachableReplicaWaitsDeleting() {
        String uuid = UUID.randomUUID().toString();
        String replica = UUID.randomUUID().toString();
        previousAgent.create(VolumeSpec.KIND, new VolumeSpec(uuid, 1 << 20, 1, false, Topology.ANY, "", OperationStatus.DELETING));
        previousAgent.create(ReplicaSpec.KIND, new ReplicaSpec(replica, "pool-gone", "node-gone", 1 << 20, false, uuid, OperationStatus.CREATED));
        await().atMost(Duration.ofSeconds(30)).until(() -> previousAgent.get(VolumeSpec.KIND, uuid).isEmpty());
        assertThat(events(uuid, "VolumeDestroyed")).isEqualTo(1);
        // Its node is not Online: the replica spec waits, Deleting, for the node to come back.
        assertThat(previousAgent.get(ReplicaSpec.KIND, replica).orElseThrow().spec().operation()).isEqualTo(OperationStatus.DELETING);
        assertThat(SpecServiceGrpc.newBlockingStub(agent.channel()).listSpecs(ListSpecsRequest.newBuilder().setKind("replica").build())
                .getSpecsList()).anySatisfy(s -> {
                    assertThat(s.getId()).isEqualTo(replica);
                    assertThat(s.getJson()).contains("\"nodeId\":\"node-gone\"");
                });
        // An unknown kind is refused with every kind the API serves named.
        assertThatThrownBy(() -> SpecServiceGrpc.newBlockingStub(agent.channel()).listSpecs(ListSpecsRequest.newBuilder().setKind("volumes").build()))
                .isInstanceOfSatisfying(io.grpc.StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains("'volumes' is not a spec kind")
                            .contains("node, pool, replica, volume, nexus, nexusinfo, snapshot");
                });
    }

    @Test
    void actuatorReportsReadinessByLeadershipAndPrometheusMetrics() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + agent.httpPort();
        HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create(base + "/actuator/health/readiness")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).contains("\"status\":\"UP\"");
        HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create(base + "/actuator/prometheus")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.body()).contains("jvm_memory_used_bytes");

        // API reads on the leader are answered on its lease (the default), asking etcd nothing; the metric counts them.
        var volumes = VolumeServiceGrpc.newBlockingStub(agent.channel());
        String missing = UUID.randomUUID().toString();
        await("API reads answered on the leader's lease").atMost(Duration.ofSeconds(10)).until(() -> {
            assertThatThrownBy(() -> volumes.getVolume(GetVolumeRequest.newBuilder().setUuid(missing).build()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
            String body = http.send(HttpRequest.newBuilder(URI.create(base + "/actuator/prometheus")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            return body.lines().filter(l -> l.startsWith("javastor_agent_api_lease_reads_total"))
                    .anyMatch(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)) > 0);
        });
        assertThat(List.of(agent.bean(CoreAgentProperties.class).agentId())).containsExactly("agent-app");
    }
}

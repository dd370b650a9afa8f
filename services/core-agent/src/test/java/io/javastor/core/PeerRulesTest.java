package io.javastor.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.javastor.api.core.v1.CreateVolumeRequest;
import io.javastor.api.core.v1.GetNodeRequest;
import io.javastor.api.core.v1.ListNodesRequest;
import io.javastor.api.core.v1.ListVolumesRequest;
import io.javastor.api.core.v1.NodeServiceGrpc;
import io.javastor.api.core.v1.RegisterRequest;
import io.javastor.api.core.v1.RegistrationGrpc;
import io.javastor.api.core.v1.ReportFailedPathRequest;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.api.tls.ClusterPeer;
import io.javastor.core.leader.LeaderElection;
import io.javastor.core.testsupport.EtcdExtension;
import io.javastor.core.testsupport.RunningAgent;
import io.javastor.testsupport.ClusterCertificates;

/**
 * The core agent's gRPC port with mTLS (issue 16): plaintext and certificates of another CA never reach a handler; each
 * peer calls only what its certificate allows; a node registers, heartbeats and reports for itself only.
 */
class PeerRulesTest {

    @RegisterExtension
    static final EtcdExtension etcd = new EtcdExtension();

    private static RunningAgent agent;

    @BeforeAll
    static void startAgent() {
        agent = RunningAgent.start(etcd.endpoint(), "peer-rules", "agent-peer-rules", Map.of());
        await().atMost(Duration.ofSeconds(10)).until(() -> agent.bean(LeaderElection.class).isLeader());
    }

    @AfterAll
    static void stop() throws InterruptedException {
        agent.close();
    }

    private static String target() {
        return "127.0.0.1:" + agent.grpcPort();
    }

    private static RegisterRequest registration(String node) {
        return RegisterRequest.newBuilder().setNodeId(node).setGrpcEndpoint("127.0.0.1:1").setNodeNqn("nqn.2019-05.io.javastor:" + node)
                .setNvmfEndpoint("127.0.0.1:2").setVersion("test").build();
    }

    private static boolean known(String node) {
        return NodeServiceGrpc.newBlockingStub(agent.channel()).listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                .anyMatch(n -> n.getId().equals(node));
    }

    @Test
    void plaintextIsRefusedAndChangesNothing() throws InterruptedException {
        ManagedChannel plain = ManagedChannelBuilder.forTarget(target()).usePlaintext().build();
        try {
            assertThatThrownBy(() -> RegistrationGrpc.newBlockingStub(plain).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .register(registration("node-plain")))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
            assertThatThrownBy(() -> NodeServiceGrpc.newBlockingStub(plain).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .listNodes(ListNodesRequest.getDefaultInstance()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
        } finally {
            plain.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        assertThat(known("node-plain")).as("a plaintext registration changed nothing").isFalse();
    }

    @Test
    void aCertificateOfAnotherCaIsRefused() throws InterruptedException {
        // Same names, another CA: the agent's handshake refuses the client (and the client refuses the agent).
        ManagedChannel foreign = ClusterCertificates.newAuthority().of(new ClusterPeer.Node("node-foreign"))
                .channelTo(target(), ClusterPeer.CORE_AGENT).build();
        try {
            assertThatThrownBy(() -> RegistrationGrpc.newBlockingStub(foreign).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .register(registration("node-foreign")))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
        } finally {
            foreign.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        assertThat(known("node-foreign")).as("a foreign CA's registration changed nothing").isFalse();
    }

    @Test
    void aNodeRegistersAndHeartbeatsAsItselfOnly() {
        var asN1 = RegistrationGrpc.newBlockingStub(agent.channelAs(new ClusterPeer.Node("node-n1")));
        asN1.register(registration("node-n1"));
        asN1.register(registration("node-n1")); // a heartbeat is a repeated Register
        assertThat(known("node-n1")).isTrue();

        assertThatThrownBy(() -> asN1.register(registration("node-n2")))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                    assertThat(e.getStatus().getDescription()).contains("node node-n2").contains("node-n1.node.javastor");
                });
        assertThat(known("node-n2")).as("node-n1 could not register node-n2").isFalse();

        // Nor rewrite a registered node's endpoint: node-n2 registers itself, then node-n1 tries to move it.
        RegistrationGrpc.newBlockingStub(agent.channelAs(new ClusterPeer.Node("node-n2"))).register(registration("node-n2"));
        assertThatThrownBy(() -> asN1.register(registration("node-n2").toBuilder().setGrpcEndpoint("127.0.0.1:9").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
        assertThat(NodeServiceGrpc.newBlockingStub(agent.channel()).getNode(GetNodeRequest.newBuilder().setId("node-n2").build())
                .getGrpcEndpoint()).isEqualTo("127.0.0.1:1");
    }

    @Test
    void eachPeerCallsOnlyWhatItsCertificateAllows() {
        // A node may not use the API (it could create or destroy volumes around the REST gateway's authorization).
        assertThatThrownBy(() -> VolumeServiceGrpc.newBlockingStub(agent.channelAs(new ClusterPeer.Node("node-n3")))
                .listVolumes(ListVolumesRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                    assertThat(e.getStatus().getDescription()).contains("ListVolumes").contains("RestGateway");
                });
        // The gateway may not register a node.
        assertThatThrownBy(() -> RegistrationGrpc.newBlockingStub(agent.channel()).register(registration("node-gw")))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
        assertThat(known("node-gw")).isFalse();

        // A CSI node plugin reports failed paths (here: of an unknown volume, answered by the handler) and nothing else.
        var csi = VolumeServiceGrpc.newBlockingStub(agent.channelAs(ClusterPeer.CSI_NODE));
        String unknown = UUID.randomUUID().toString();
        assertThatThrownBy(() -> csi.reportFailedPath(ReportFailedPathRequest.newBuilder().setUuid(unknown)
                .setFailedUri("nvmf://127.0.0.1:1/nqn.2019-05.io.javastor:" + unknown).setHostNode("w1").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
        assertThatThrownBy(() -> csi.createVolume(CreateVolumeRequest.newBuilder().setUuid(UUID.randomUUID().toString())
                .setSize(1 << 20).setReplicaCount(1).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
    }
}

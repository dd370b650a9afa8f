package io.javastor.core.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.javastor.api.core.v1.DeregisterRequest;
import io.javastor.api.core.v1.GetNodeRequest;
import io.javastor.api.core.v1.NodeServiceGrpc;
import io.javastor.api.core.v1.NodeStatus;
import io.javastor.api.core.v1.RegisterRequest;
import io.javastor.api.core.v1.RegistrationGrpc;
import io.javastor.api.tls.ClusterPeer;
import io.javastor.core.testsupport.DrivenReconcilers;
import io.javastor.testsupport.FreePorts;

/**
 * {@link NodeLivenessReconciler}, driven step by step: a node whose heartbeats (registrations) stop goes Offline once
 * the heartbeat timeout ({@link DrivenReconcilers#HEARTBEAT_TIMEOUT}) has passed, not before; nodes that keep beating stay Online.
 */
class NodeLivenessReconcilerTest {

    @RegisterExtension
    static final DrivenReconcilers driven = new DrivenReconcilers();

    private static NodeStatus status(String node) {
        return NodeServiceGrpc.newBlockingStub(driven.cluster().agent().channel()).getNode(GetNodeRequest.newBuilder().setId(node).build())
                .getStatus();
    }

    @Test
    void aNodeWhoseHeartbeatsStopGoesOfflineAfterTheTimeoutAndOnlyIt() {
        String ghost = "node-liveness-ghost";
        var registration = RegistrationGrpc.newBlockingStub(driven.cluster().agent().channelAs(new ClusterPeer.Node(ghost)))
                .withDeadlineAfter(10, TimeUnit.SECONDS);
        // An io-engine that registers once and is never heard from again (its API port has nothing behind it). Its beat
        // is timed before the call: the agent's own time of it is later, so "not before the timeout" cannot fail early.
        long lastBeat = System.nanoTime();
        registration.register(RegisterRequest.newBuilder().setNodeId(ghost).setGrpcEndpoint("127.0.0.1:" + FreePorts.next())
                .setNodeNqn("nqn.2019-05.io.javastor:node-name:" + ghost).setVersion("test").build());
        assertThat(status(ghost)).isEqualTo(NodeStatus.NODE_STATUS_ONLINE);
        NodeLivenessReconciler liveness = driven.reconciler(NodeLivenessReconciler.class);
        assertThat(liveness.reconcile()).as("just heard from: Online still").isEqualTo(ReconcileOutcome.IDLE);
        assertThat(status(ghost)).isEqualTo(NodeStatus.NODE_STATUS_ONLINE);

        ReconcileOutcome[] expired = new ReconcileOutcome[1];
        await("ghost Offline").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).until(() -> {
            ReconcileOutcome o = liveness.reconcile();
            if (o instanceof ReconcileOutcome.Busy) {
                expired[0] = o;
            }
            return status(ghost) == NodeStatus.NODE_STATUS_OFFLINE;
        });
        assertThat(Duration.ofNanos(System.nanoTime() - lastBeat)).as("not before the timeout")
                .isGreaterThanOrEqualTo(DrivenReconcilers.HEARTBEAT_TIMEOUT);
        assertThat(expired[0]).as("the pass that took it Offline says so")
                .isInstanceOfSatisfying(ReconcileOutcome.Busy.class, b -> assertThat(b.why()).contains(ghost));
        assertThat(status("node-1")).as("beating").isEqualTo(NodeStatus.NODE_STATUS_ONLINE);
        assertThat(status("node-2")).as("beating").isEqualTo(NodeStatus.NODE_STATUS_ONLINE);

        registration = RegistrationGrpc.newBlockingStub(driven.cluster().agent().channelAs(new ClusterPeer.Node(ghost)))
                .withDeadlineAfter(10, TimeUnit.SECONDS);
        registration.deregister(DeregisterRequest.newBuilder().setNodeId(ghost).build());
    }
}

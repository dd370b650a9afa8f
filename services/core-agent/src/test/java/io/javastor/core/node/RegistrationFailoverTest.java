package io.javastor.core.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import io.javastor.api.core.v1.GetNodeRequest;
import io.javastor.api.core.v1.NodeServiceGrpc;
import io.javastor.api.core.v1.NodeStatus;
import io.javastor.core.leader.LeaderElection;
import io.javastor.core.testsupport.EtcdExtension;
import io.javastor.testsupport.IoEngineProcess;
import io.javastor.core.testsupport.RunningAgent;

/**
 * A real io-engine given every agent's endpoint, follower first: only the leader accepts registration, so the
 * heartbeat must move to it; when that leader goes, it must move to the new one and the node stay Online.
 */
class RegistrationFailoverTest {

    @RegisterExtension
    static final EtcdExtension etcd = new EtcdExtension();

    @TempDir
    Path dir;

    @Test
    void heartbeatFindsTheLeaderAmongSeveralAgentsAndFollowsAFailover() throws Exception {
        Map<String, String> shared = Map.of("spring.datasource.url", "jdbc:h2:mem:reg-failover;DB_CLOSE_DELAY=-1");
        try (RunningAgent a = RunningAgent.start(etcd.endpoint(), "regfo", "agent-a", shared);
             RunningAgent b = RunningAgent.start(etcd.endpoint(), "regfo", "agent-b", shared)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> leads(a) ^ leads(b));
            RunningAgent leader = leads(a) ? a : b;
            RunningAgent follower = leader == a ? b : a;
            String endpoints = "127.0.0.1:" + follower.grpcPort() + ",127.0.0.1:" + leader.grpcPort();
            try (IoEngineProcess node = IoEngineProcess.fromJar("node-fo", endpoints, dir).start()) {
                await("registered through the leader").atMost(Duration.ofSeconds(60))
                        .until(() -> status(leader, "node-fo") == NodeStatus.NODE_STATUS_ONLINE);

                leader.close(); // resigns: the follower leads and the heartbeat has to find it
                await().atMost(Duration.ofSeconds(10)).until(() -> leads(follower));
                await("registered with the new leader").atMost(Duration.ofSeconds(60))
                        .until(() -> status(follower, "node-fo") == NodeStatus.NODE_STATUS_ONLINE);
                assertThat(status(follower, "node-fo")).isEqualTo(NodeStatus.NODE_STATUS_ONLINE);
            }
        }
    }

    private static boolean leads(RunningAgent agent) {
        return agent.isRunning() && agent.bean(LeaderElection.class).isLeader();
    }

    private static NodeStatus status(RunningAgent agent, String id) {
        try {
            return NodeServiceGrpc.newBlockingStub(agent.channel()).getNode(GetNodeRequest.newBuilder().setId(id).build()).getStatus();
        } catch (io.grpc.StatusRuntimeException e) {
            return NodeStatus.NODE_STATUS_UNKNOWN; // not known (yet) to this agent, or not the leader
        }
    }
}

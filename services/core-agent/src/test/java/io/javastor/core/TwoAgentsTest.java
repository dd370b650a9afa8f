package io.javastor.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.etcd.jetcd.Client;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.javastor.api.core.v1.Event;
import io.javastor.api.core.v1.EventServiceGrpc;
import io.javastor.api.core.v1.ListEventsRequest;
import io.javastor.api.core.v1.ListVolumesRequest;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.core.leader.LeaderElection;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.WriteFence;
import io.javastor.core.testsupport.EtcdExtension;
import io.javastor.core.testsupport.RunningAgent;
import io.javastor.core.volume.Topology;
import io.javastor.core.volume.VolumeSpec;

/**
 * Two whole agents on one etcd (one shared event history, as in a deployment): exactly one acts
 * on a left-over spec, the other refuses API calls, and when the leader goes the other takes over.
 */
class TwoAgentsTest {

    @RegisterExtension
    static final EtcdExtension etcd = new EtcdExtension();

    private RunningAgent a;
    private RunningAgent b;

    @AfterEach
    void stop() throws Exception {
        for (RunningAgent agent : new RunningAgent[] {a, b}) {
            if (agent != null) {
                agent.close();
            }
        }
    }

    private static boolean leads(RunningAgent agent) {
        return agent.isRunning() && agent.bean(LeaderElection.class).isLeader();
    }

    private static List<Event> events(RunningAgent via, String resourceId, String kind) {
        return EventServiceGrpc.newBlockingStub(via.channel()).listEvents(ListEventsRequest.newBuilder()
                .setResourceId(resourceId).setKind(kind).build()).getEventsList();
    }

    @Test
    void onlyTheLeaderActsAndTheOtherTakesOverWhenItGoes() throws Exception {
        // A lease longer than any wait below: the follower can only lead in time if the leader resigns.
        Map<String, String> shared = Map.of("spring.datasource.url", "jdbc:h2:mem:two-agents;DB_CLOSE_DELAY=-1",
                "javastor.core.leader.ttl", "60s");
        a = RunningAgent.start(etcd.endpoint(), "race", "agent-a", shared);
        b = RunningAgent.start(etcd.endpoint(), "race", "agent-b", shared);
        await().atMost(Duration.ofSeconds(10)).until(() -> leads(a) ^ leads(b));
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(10)).until(() -> leads(a) ^ leads(b));
        RunningAgent leader = leads(a) ? a : b;
        RunningAgent follower = leader == a ? b : a;

        assertThatThrownBy(() -> VolumeServiceGrpc.newBlockingStub(follower.channel()).listVolumes(ListVolumesRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                    assertThat(e.getStatus().getDescription()).contains("not the leader");
                });

        try (Client client = etcd.client()) {
            SpecStore leftOver = new SpecStore(client.getKVClient(), "race", WriteFence.NONE, 5000);
            // Several specs left Creating: both agents' reconcilers run, only the leader's may act.
            List<String> uuids = List.of(UUID.randomUUID().toString(), UUID.randomUUID().toString(), UUID.randomUUID().toString());
            for (String uuid : uuids) {
                leftOver.create(VolumeSpec.KIND, new VolumeSpec(uuid, 1 << 20, 2, true, Topology.ANY, "", OperationStatus.CREATING));
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> leftOver.list(VolumeSpec.KIND).isEmpty());
            String leaderId = leader.bean(CoreAgentProperties.class).agentId();
            for (String uuid : uuids) {
                List<Event> rolledBack = events(leader, uuid, "VolumeCreateRolledBack");
                assertThat(rolledBack).hasSize(1);
                assertThat(rolledBack.get(0).getAgentId()).isEqualTo(leaderId);
            }

            // The leader goes (orderly: it resigns, so its key is gone when it has closed, not left to expire); the
            // follower leads and acts.
            leader.close();
            var holders = client.getKVClient().get(LeaderElection.keyOf("race")).get(10, TimeUnit.SECONDS).getKvs();
            assertThat(holders).as("the leader key once the leader closed").allSatisfy(kv ->
                    assertThat(kv.getValue().toString(StandardCharsets.UTF_8)).isNotEqualTo(leaderId));
            await().atMost(Duration.ofSeconds(30)).until(() -> leads(follower));
            String uuid = UUID.randomUUID().toString();
            leftOver.create(VolumeSpec.KIND, new VolumeSpec(uuid, 1 << 20, 1, false, Topology.ANY, "", OperationStatus.CREATING));
            await().atMost(Duration.ofSeconds(30)).until(() -> leftOver.get(VolumeSpec.KIND, uuid).isEmpty());
            assertThat(events(follower, uuid, "VolumeCreateRolledBack")).singleElement()
                    .satisfies(e -> assertThat(e.getAgentId()).isEqualTo(follower.bean(CoreAgentProperties.class).agentId()));
            assertThat(events(follower, follower.bean(CoreAgentProperties.class).agentId(), "LeaderChanged")).hasSize(1);
        }
    }
}

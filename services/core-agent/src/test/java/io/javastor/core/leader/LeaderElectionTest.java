package io.javastor.core.leader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.etcd.jetcd.Client;
import io.javastor.core.operation.CoreException;
import io.javastor.core.pool.PoolSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;
import io.javastor.core.testsupport.EtcdExtension;

/** Agents in this JVM, each with its own etcd client, as separate processes would have. */
class LeaderElectionTest {

    @RegisterExtension
    static final EtcdExtension etcd = new EtcdExtension();

    private static final Duration TTL = Duration.ofSeconds(3);
    private final List<AutoCloseable> toClose = new CopyOnWriteArrayList<>();

    /** One agent: its own etcd client (its "process"), election and fenced store. */
    private final class Agent {
        final Client client = etcd.client();
        final List<String> transitions = new CopyOnWriteArrayList<>();
        final LeaderElection election;
        final SpecStore store;

        Agent(String cluster, String id) {
            election = new LeaderElection(client, cluster, id, TTL, new LeadershipListener() {
                @Override
                public void elected(long term) {
                    transitions.add("elected");
                }

                @Override
                public void revoked(long term) {
                    transitions.add("revoked");
                }
            });
            store = new SpecStore(client.getKVClient(), cluster, election, 2000);
            toClose.add(election);
            toClose.add(client);
            election.start();
        }

        /** A crash: the process is gone without resigning; its lease has to expire. */
        void crash() {
            client.close();
        }
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
    }

    @Test
    void exactlyOneOfThreeAgentsLeads(TestInfo info) {
        String cluster = info.getTestMethod().orElseThrow().getName();
        List<Agent> agents = List.of(new Agent(cluster, "a"), new Agent(cluster, "b"), new Agent(cluster, "c"));
        await().atMost(Duration.ofSeconds(5)).until(() -> agents.stream().filter(a -> a.election.isLeader()).count() == 1);
        Agent leader = agents.stream().filter(a -> a.election.isLeader()).findFirst().orElseThrow();
        assertThat(leader.election.leader()).contains(leader.election.agentId());
        // Stays that way: the others keep campaigning and keep losing.
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(3))
                .until(() -> agents.stream().filter(a -> a.election.isLeader()).count() == 1 && leader.election.isLeader());
        for (Agent a : agents) {
            if (a != leader) {
                assertThatThrownBy(() -> a.store.create(PoolSpec.KIND, pool("p-" + a.election.agentId())))
                        .isInstanceOf(CoreException.Unavailable.class).hasMessageContaining("not the leader");
            }
        }
        assertThat(leader.store.create(PoolSpec.KIND, pool("p-leader")).spec().id()).isEqualTo("p-leader");
    }

    @Test
    void aCrashedLeaderIsReplacedWithinTheTtl(TestInfo info) {
        String cluster = info.getTestMethod().orElseThrow().getName();
        Agent first = new Agent(cluster, "first");
        await().atMost(Duration.ofSeconds(5)).until(first.election::isLeader);
        Agent second = new Agent(cluster, "second");
        await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(3)).until(() -> !second.election.isLeader());

        long killedAt = System.nanoTime();
        first.crash();
        await().atMost(TTL.plusMillis(1500)).until(second.election::isLeader);
        Duration takeover = Duration.ofNanos(System.nanoTime() - killedAt);
        // The lease was renewed at most TTL/3 before the crash; etcd expires leases on a ~0.5 s tick.
        assertThat(takeover).isLessThanOrEqualTo(TTL.plusMillis(1500));
        assertThat(second.election.leader()).contains("second");
        assertThat(second.transitions).containsExactly("elected");
    }

    @Test
    void aResigningLeaderHandsOverAtOnceAndCanNoLongerWrite(TestInfo info) throws Exception {
        String cluster = info.getTestMethod().orElseThrow().getName();
        Agent first = new Agent(cluster, "first");
        await().atMost(Duration.ofSeconds(5)).until(first.election::isLeader);
        Versioned<PoolSpec> p = first.store.create(PoolSpec.KIND, pool("p1"));
        Agent second = new Agent(cluster, "second");

        long resignedAt = System.nanoTime();
        first.election.close();
        await().atMost(Duration.ofSeconds(2)).until(second.election::isLeader);
        assertThat(Duration.ofNanos(System.nanoTime() - resignedAt)).isLessThan(TTL);
        assertThat(first.transitions).containsExactly("elected", "revoked");
        assertThatThrownBy(() -> first.store.update(PoolSpec.KIND, p, p.spec().with(OperationStatus.DELETING)))
                .isInstanceOf(CoreException.Unavailable.class);
        assertThat(second.store.update(PoolSpec.KIND, p, p.spec().with(OperationStatus.DELETING)).spec().operation())
                .isEqualTo(OperationStatus.DELETING);
    }

    @Test
    void aDeposedLeaderThatDoesNotKnowItYetIsFencedByEtcd(TestInfo info) throws Exception {
        String cluster = info.getTestMethod().orElseThrow().getName();
        Agent first = new Agent(cluster, "first");
        await().atMost(Duration.ofSeconds(5)).until(first.election::isLeader);
        var staleFence = first.election.condition(); // what first would still send in its next write
        // Someone else takes the key (as if first's lease expired while it was paused).
        try (Client other = etcd.client()) {
            var key = io.etcd.jetcd.ByteSequence.from("/javastor/" + cluster + "/leader", java.nio.charset.StandardCharsets.UTF_8);
            other.getKVClient().delete(key).get();
            other.getKVClient().put(key, io.etcd.jetcd.ByteSequence.from("usurper", java.nio.charset.StandardCharsets.UTF_8)).get();
            SpecStore stale = new SpecStore(first.client.getKVClient(), cluster, () -> staleFence, 2000);
            assertThatThrownBy(() -> stale.create(PoolSpec.KIND, pool("p1")))
                    .isInstanceOf(CoreException.Unavailable.class).hasMessageContaining("no longer the leader");
            await().atMost(Duration.ofSeconds(3)).until(() -> !first.election.isLeader());
        }
    }

    private static PoolSpec pool(String id) {
        return new PoolSpec(id, "node-1", List.of("malloc:///" + id + "?size_mb=8"), Map.of(), OperationStatus.CREATING);
    }
}

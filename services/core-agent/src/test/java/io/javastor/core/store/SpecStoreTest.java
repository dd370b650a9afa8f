package io.javastor.core.store;

import io.javastor.testsupport.FreePorts;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.etcd.jetcd.Client;
import io.javastor.core.operation.CoreException;
import io.javastor.core.pool.PoolSpec;
import io.javastor.core.testsupport.EtcdExtension;

class SpecStoreTest {

    @RegisterExtension
    static final EtcdExtension etcd = new EtcdExtension();

    private Client clientA;
    private Client clientB;
    private SpecStore storeA;
    private SpecStore storeB;

    @BeforeEach
    void connect(org.junit.jupiter.api.TestInfo info) {
        String cluster = "store-" + info.getTestMethod().orElseThrow().getName();
        clientA = etcd.client();
        clientB = etcd.client();
        storeA = new SpecStore(clientA.getKVClient(), cluster, WriteFence.NONE, 5000);
        storeB = new SpecStore(clientB.getKVClient(), cluster, WriteFence.NONE, 5000);
    }

    @AfterEach
    void close() {
        clientA.close();
        clientB.close();
    }

    private static PoolSpec pool(String id, OperationStatus op) {
        return new PoolSpec(id, "node-1", List.of("malloc:///" + id + "?size_mb=64"), Map.of("tier", "ssd"), op);
    }

    /**
     * A store keeps its last listing of a kind and serves it again only when etcd says no key of the kind changed
     * since: every change another agent makes is seen by the next listing, including a delete and a create that
     * leave the count as it was.
     */
    @Test
    void aKeptListingIsNeverServedAfterAnotherAgentChangedTheKind() {
        storeB.create(PoolSpec.KIND, pool("a", OperationStatus.CREATED));
        storeB.create(PoolSpec.KIND, pool("b", OperationStatus.CREATED));
        assertThat(ids(storeA.list(PoolSpec.KIND))).containsExactly("a", "b");
        assertThat(storeA.list(PoolSpec.KIND)).as("unchanged: the same listing").isEqualTo(storeA.list(PoolSpec.KIND));

        storeB.create(PoolSpec.KIND, pool("c", OperationStatus.CREATING));
        assertThat(ids(storeA.list(PoolSpec.KIND))).as("a create").containsExactly("a", "b", "c");

        Versioned<PoolSpec> c = storeB.get(PoolSpec.KIND, "c").orElseThrow();
        storeB.update(PoolSpec.KIND, c, c.spec().with(OperationStatus.CREATED));
        assertThat(storeA.list(PoolSpec.KIND)).as("an update").filteredOn(v -> v.spec().id().equals("c"))
                .singleElement().satisfies(v -> assertThat(v.spec().operation()).isEqualTo(OperationStatus.CREATED));

        storeB.delete(PoolSpec.KIND, storeB.get(PoolSpec.KIND, "a").orElseThrow());
        assertThat(ids(storeA.list(PoolSpec.KIND))).as("a delete").containsExactly("b", "c");

        storeB.delete(PoolSpec.KIND, storeB.get(PoolSpec.KIND, "b").orElseThrow());
        storeB.create(PoolSpec.KIND, pool("d", OperationStatus.CREATED));
        assertThat(ids(storeA.list(PoolSpec.KIND))).as("a delete and a create: the count is the same").containsExactly("c", "d");
    }

    /**
     * The agent's store serves {@code consistentRead} bodies from its watch-fed copy, and each read sees every write
     * committed before it, by another agent too, with no wait in the test: the copy is used only once etcd's revision
     * shows it current. Writes elsewhere in etcd (outside the watched prefix) are covered by a progress request.
     */
    @Test
    void consistentReadsAreServedFromTheWatchedCopyAndSeeEveryCommittedWrite(org.junit.jupiter.api.TestInfo info) throws Exception {
        String cluster = "store-" + info.getTestMethod().orElseThrow().getName();
        try (Client agentClient = etcd.client();
             SpecStore agent = new SpecStore(agentClient.getKVClient(), agentClient.getWatchClient(), cluster, WriteFence.NONE, 5000)) {
            // Loaded: a read is served from the copy.
            org.awaitility.Awaitility.await("the copy loaded").atMost(java.time.Duration.ofSeconds(30)).until(() -> {
                agent.consistentRead(() -> agent.list(PoolSpec.KIND));
                return agent.consistentReadCounts()[0] > 0;
            });
            for (int i = 0; i < 20; i++) {
                String id = "p" + i;
                storeB.create(PoolSpec.KIND, pool(id, OperationStatus.CREATING));
                assertThat(agent.consistentRead(() -> agent.get(PoolSpec.KIND, id))).as("created " + id).isPresent();
                Versioned<PoolSpec> v = storeB.get(PoolSpec.KIND, id).orElseThrow();
                Versioned<PoolSpec> updated = storeB.update(PoolSpec.KIND, v, v.spec().with(OperationStatus.CREATED));
                assertThat(agent.consistentRead(() -> agent.list(PoolSpec.KIND))).as("updated " + id).contains(updated);
                if (i % 2 == 0) {
                    storeB.delete(PoolSpec.KIND, updated);
                    assertThat(agent.consistentRead(() -> agent.get(PoolSpec.KIND, id))).as("deleted " + id).isEmpty();
                }
            }
            assertThat(ids(agent.consistentRead(() -> agent.list(PoolSpec.KIND)))).as("what etcd holds, in key order")
                    .isEqualTo(ids(storeB.list(PoolSpec.KIND)));
            // A large change (one transaction of 100 specs of 8 KiB each) takes the watch longer to deliver than a read takes.
            String big = "x".repeat(8192);
            for (int round = 0; round < 5; round++) {
                List<PoolSpec> many = new ArrayList<>();
                for (int i = 0; i < 100; i++) {
                    many.add(new PoolSpec("bulk-" + round + "-" + i, "node-1", List.of("malloc:///b?size_mb=64"), Map.of("pad", big), OperationStatus.CREATED));
                }
                storeB.createAll(PoolSpec.KIND, many);
                assertThat(agent.consistentRead(() -> agent.list(PoolSpec.KIND))).as("bulk round " + round).hasSize(10 + 100 * (round + 1));
            }
            long[] counts = agent.consistentReadCounts();
            System.out.println("consistent reads served from the copy / from etcd: " + counts[0] + " / " + counts[1]);
            assertThat(counts[0]).as("most reads served from the copy").isGreaterThan(counts[1]);

            // A body that writes reads its own write.
            assertThat(agent.consistentRead(() -> {
                agent.create(PoolSpec.KIND, pool("own", OperationStatus.CREATING));
                return agent.get(PoolSpec.KIND, "own");
            })).isPresent();

            // A write outside the watched prefix moves etcd's revision past the copy's; a progress answer catches it up.
            agentClient.getKVClient().put(io.etcd.jetcd.ByteSequence.from("/elsewhere/" + cluster, java.nio.charset.StandardCharsets.UTF_8),
                    io.etcd.jetcd.ByteSequence.from("x", java.nio.charset.StandardCharsets.UTF_8)).get(5, TimeUnit.SECONDS);
            long servedBefore = agent.consistentReadCounts()[0];
            org.awaitility.Awaitility.await("served from the copy after a write elsewhere").atMost(java.time.Duration.ofSeconds(10)).until(() -> {
                agent.consistentRead(() -> agent.get(PoolSpec.KIND, "own"));
                return agent.consistentReadCounts()[0] > servedBefore;
            });

            agent.close();
            long fromEtcd = agent.consistentReadCounts()[1];
            assertThat(agent.consistentRead(() -> agent.get(PoolSpec.KIND, "own"))).as("a closed copy: read from etcd").isPresent();
            assertThat(agent.consistentReadCounts()[1]).isEqualTo(fromEtcd + 1);
        }
    }

    /**
     * {@code listWhere} inside a consistent read answers from the copy's index of the field, exactly as a filtered
     * listing of etcd would: on the index's first use (built from the copy) and as specs are created, change their
     * field's value and are deleted; a spec that cannot be read makes it scan, and fail, as a listing does.
     */
    @Test
    void listWhereAnswersFromTheCopysIndexAsAFilteredListingWould(org.junit.jupiter.api.TestInfo info) throws Exception {
        String cluster = "store-" + info.getTestMethod().orElseThrow().getName();
        SpecField<PoolSpec> byNode = new SpecField<>(PoolSpec.KIND, "node", PoolSpec::nodeId);
        try (Client agentClient = etcd.client();
             SpecStore agent = new SpecStore(agentClient.getKVClient(), agentClient.getWatchClient(), cluster, WriteFence.NONE, 5000);
             SpecStore other = new SpecStore(clientB.getKVClient(), cluster, WriteFence.NONE, 5000)) {
            for (int i = 0; i < 6; i++) {
                other.create(PoolSpec.KIND, new PoolSpec("p" + i, "n" + (i % 2), List.of("malloc:///p?size_mb=64"), Map.of(), OperationStatus.CREATED));
            }
            org.awaitility.Awaitility.await("the copy loaded").atMost(java.time.Duration.ofSeconds(30)).until(() -> {
                agent.consistentRead(() -> agent.list(PoolSpec.KIND));
                return agent.consistentReadCounts()[0] > 0;
            });
            long servedBefore = agent.consistentReadCounts()[0];
            assertThat(ids(agent.consistentRead(() -> agent.listWhere(byNode, "n0")))).as("first use").containsExactly("p0", "p2", "p4");
            assertThat(agent.consistentRead(() -> agent.listWhere(byNode, "nowhere"))).isEmpty();

            Versioned<PoolSpec> p2 = other.get(PoolSpec.KIND, "p2").orElseThrow();
            PoolSpec s2 = p2.spec();
            other.update(PoolSpec.KIND, p2, new PoolSpec(s2.id(), "n1", s2.disks(), s2.labels(), s2.operation()));
            other.create(PoolSpec.KIND, new PoolSpec("p6", "n0", List.of("malloc:///p?size_mb=64"), Map.of(), OperationStatus.CREATING));
            other.delete(PoolSpec.KIND, other.get(PoolSpec.KIND, "p0").orElseThrow());
            for (String node : List.of("n0", "n1", "n2")) {
                assertThat(agent.consistentRead(() -> agent.listWhere(byNode, node))).as("after changes, " + node)
                        .isEqualTo(other.listWhere(byNode, node))
                        .isEqualTo(other.list(PoolSpec.KIND).stream().filter(v -> v.spec().nodeId().equals(node)).toList());
            }
            assertThat(ids(agent.consistentRead(() -> agent.listWhere(byNode, "n0")))).containsExactly("p4", "p6");
            assertThat(agent.consistentReadCounts()[0]).as("served from the copy").isGreaterThanOrEqualTo(servedBefore + 5);

            var garbage = io.etcd.jetcd.ByteSequence.from("/javastor/" + cluster + "/specs/pool/bad", java.nio.charset.StandardCharsets.UTF_8);
            clientB.getKVClient().put(garbage, io.etcd.jetcd.ByteSequence.from("{not json", java.nio.charset.StandardCharsets.UTF_8))
                    .get(5, TimeUnit.SECONDS);
            assertThatThrownBy(() -> agent.consistentRead(() -> agent.listWhere(byNode, "n0"))).as("an unreadable spec, as list reports it")
                    .isInstanceOf(tools.jackson.core.JacksonException.class);
            clientB.getKVClient().delete(garbage).get(5, TimeUnit.SECONDS);
            assertThat(ids(agent.consistentRead(() -> agent.listWhere(byNode, "n0")))).as("readable again").containsExactly("p4", "p6");
        }
    }

    private static List<String> ids(List<Versioned<PoolSpec>> specs) {
        return specs.stream().map(v -> v.spec().id()).toList();
    }

    @Test
    void createReadUpdateDeleteRoundTrip() {
        Versioned<PoolSpec> created = storeA.create(PoolSpec.KIND, pool("p1", OperationStatus.CREATING));
        Versioned<PoolSpec> read = storeB.get(PoolSpec.KIND, "p1").orElseThrow();
        assertThat(read).isEqualTo(created);
        Versioned<PoolSpec> updated = storeB.update(PoolSpec.KIND, read, read.spec().with(OperationStatus.CREATED));
        assertThat(updated.modRevision()).isGreaterThan(read.modRevision());
        assertThat(storeA.list(PoolSpec.KIND)).containsExactly(updated);
        storeA.delete(PoolSpec.KIND, updated);
        assertThat(storeB.get(PoolSpec.KIND, "p1")).isEmpty();
    }

    @Test
    void creatingAnExistingKeyOrWritingAStaleRevisionIsAConflict() {
        Versioned<PoolSpec> v1 = storeA.create(PoolSpec.KIND, pool("p1", OperationStatus.CREATING));
        assertThatThrownBy(() -> storeB.create(PoolSpec.KIND, pool("p1", OperationStatus.CREATING)))
                .isInstanceOf(CoreException.Conflict.class).hasMessageContaining("pool p1");
        storeA.update(PoolSpec.KIND, v1, v1.spec().with(OperationStatus.CREATED));
        assertThatThrownBy(() -> storeB.update(PoolSpec.KIND, v1, v1.spec().with(OperationStatus.DELETING)))
                .isInstanceOf(CoreException.Conflict.class);
        assertThatThrownBy(() -> storeB.delete(PoolSpec.KIND, v1)).isInstanceOf(CoreException.Conflict.class);
        assertThat(storeB.get(PoolSpec.KIND, "p1").orElseThrow().spec().operation()).isEqualTo(OperationStatus.CREATED);
    }

    @Test
    void twoWritersRacingFromTheSameRevisionExactlyOneWins() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 20; round++) {
                String id = "race-" + round;
                Versioned<PoolSpec> base = storeA.create(PoolSpec.KIND, pool(id, OperationStatus.CREATING));
                CyclicBarrier start = new CyclicBarrier(2);
                List<Future<Boolean>> results = new ArrayList<>();
                for (SpecStore s : List.of(storeA, storeB)) {
                    OperationStatus target = s == storeA ? OperationStatus.CREATED : OperationStatus.DELETING;
                    Callable<Boolean> write = () -> {
                        start.await(5, TimeUnit.SECONDS);
                        try {
                            s.update(PoolSpec.KIND, base, base.spec().with(target));
                            return true;
                        } catch (CoreException.Conflict lost) {
                            return false;
                        }
                    };
                    results.add(pool.submit(write));
                }
                int winners = 0;
                for (Future<Boolean> f : results) {
                    winners += f.get(10, TimeUnit.SECONDS) ? 1 : 0;
                }
                assertThat(winners).as("round " + round).isEqualTo(1);
                assertThat(storeA.get(PoolSpec.KIND, id).orElseThrow().spec().operation())
                        .isIn(OperationStatus.CREATED, OperationStatus.DELETING);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void unreachableEtcdIsUnavailableNotAHang() {
        try (Client dead = Client.builder().endpoints("http://127.0.0.1:" + io.javastor.testsupport.FreePorts.next()).build()) {
            SpecStore store = new SpecStore(dead.getKVClient(), "x", WriteFence.NONE, 500);
            assertThatThrownBy(() -> store.get(PoolSpec.KIND, "p1"))
                    .isInstanceOf(CoreException.Unavailable.class).hasMessageContaining("etcd: cannot read pool p1");
        }
    }
}

package io.javastor.operator;


import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.javastor.core.testsupport.EtcdExtension;
import io.javastor.testsupport.IoEngineProcess;
import io.javastor.operator.diskpool.DiskPool;
import io.javastor.operator.diskpool.DiskPoolSpec;
import io.javastor.operator.diskpool.DiskPoolStatus;
import io.javastor.testsupport.ProcessCluster;
import io.javastor.testsupport.RestGatewayProcess;
import io.javastor.operator.testsupport.Rest;
import io.javastor.operator.testsupport.RunningOperator;

/**
 * The operator against fabric8's Kubernetes mock server (CRUD mode, with the chart's DiskPool CRD
 * applied) making real pools: a real REST gateway (process), a real core agent (process) on a real
 * etcd, and two real io-engines (processes) with file-backed disks.
 */
@EnableKubernetesMockClient(crud = true)
class DiskPoolOperatorTest {
    private static final String NS = "storage";
    private static final Duration DEADLINE = Duration.ofMinutes(2);

    @RegisterExtension
    static final EtcdExtension etcd = new EtcdExtension();

    static KubernetesMockServer server;
    static KubernetesClient client;

    private static ProcessCluster cluster;
    private static Path dir;
    private static RestGatewayProcess gateway;
    private static String gatewayUrl;
    private static java.nio.file.Path tokenFile;
    private static Rest rest;
    private static RunningOperator operator;

    @BeforeAll
    static void startCluster() throws Exception {
        // No pools: the operator makes them, from DiskPool resources.
        cluster = ProcessCluster.on(etcd.endpoint(), "operator").nodes("node-1", "node-2").withGateway().start();
        dir = cluster.dir();
        client.apiextensions().v1().customResourceDefinitions().load(Path.of(System.getProperty("javastor.test.crd")).toFile()).create();
        gateway = cluster.gateway();
        gatewayUrl = gateway.url();
        rest = new Rest(gatewayUrl, gateway.token("admin"));
        tokenFile = gateway.tokenFile("admin");
        operator = RunningOperator.start(server.createClient(), gatewayUrl, tokenFile, Map.of());
        await("operator leads").atMost(DEADLINE).until(() -> operator.runner().active());
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (operator != null) {
            operator.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    /** Every test leaves no DiskPool and no pool behind (the operator destroys them). */
    @AfterEach
    void deleteEveryDiskPool() {
        if (operator.closed()) {
            operator = RunningOperator.start(server.createClient(), gatewayUrl, tokenFile, Map.of());
        }
        client.resources(DiskPool.class).inNamespace(NS).delete();
        await("every DiskPool gone").atMost(DEADLINE).pollInterval(Duration.ofMillis(250))
                .until(() -> client.resources(DiskPool.class).inNamespace(NS).list().getItems().isEmpty());
        await("every pool destroyed").atMost(DEADLINE).pollInterval(Duration.ofMillis(250))
                .until(() -> rest.get("/v0/pools").json().isEmpty());
    }

    // ---- helpers ----

    private static String disk(String name, int mb) {
        return "uring://" + dir.resolve(name + ".img") + "?size_mb=" + mb;
    }

    private static DiskPool diskPool(String name, String node, List<String> disks) {
        DiskPool dp = new DiskPool();
        dp.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(NS).build());
        dp.setSpec(new DiskPoolSpec(node, disks));
        return dp;
    }

    private static DiskPool create(DiskPool dp) {
        return client.resources(DiskPool.class).inNamespace(NS).resource(dp).create();
    }

    private static DiskPool get(String name) {
        return client.resources(DiskPool.class).inNamespace(NS).withName(name).get();
    }

    private static DiskPoolStatus awaitState(String name, String state) {
        await(name + " " + state).atMost(DEADLINE).pollInterval(Duration.ofMillis(200)).until(() -> {
            DiskPool dp = get(name);
            return dp != null && dp.getStatus() != null && state.equals(dp.getStatus().state());
        });
        return get(name).getStatus();
    }

    // ---- tests ----

    @Test
    void aDiskPoolBecomesAnOnlinePoolWithTheCapacityTheEngineReports() {
        create(diskPool("pool-online", "node-1", List.of(disk("online", 64))));

        DiskPoolStatus status = awaitState("pool-online", "Online");
        var pool = rest.get("/v0/pools/pool-online");
        assertThat(pool.status()).as("%s", pool).isEqualTo(200);
        assertThat(pool.json().path("spec").path("node").asText()).isEqualTo("node-1");
        long capacity = pool.json().path("state").path("capacity").asLong();
        assertThat(capacity).isPositive().isLessThanOrEqualTo(64L << 20);
        assertThat(status.capacity()).isEqualTo(capacity);
        assertThat(status.used()).isZero();
        assertThat(status.available()).isEqualTo(capacity);
        assertThat(status.message()).contains("pool-online").contains("node-1");
        assertThat(get("pool-online").getMetadata().getFinalizers()).containsExactly(DiskPool.FINALIZER);
    }

    @Test
    void deletingTheDiskPoolDestroysThePoolAndOnlyThenReleasesTheResource() {
        create(diskPool("pool-gone", "node-2", List.of(disk("gone", 64))));
        awaitState("pool-gone", "Online");

        client.resources(DiskPool.class).inNamespace(NS).withName("pool-gone").delete();
        await("DiskPool gone").atMost(DEADLINE).pollInterval(Duration.ofMillis(200)).until(() -> get("pool-gone") == null);
        // The finalizer was held until the pool was destroyed: by the time the resource is gone, so is the pool.
        assertThat(rest.get("/v0/pools/pool-gone").status()).isEqualTo(404);
        assertThat(rest.get("/v0/nodes/node-2/pools").json()).isEmpty();
    }

    @Test
    void badSpecsAreRefusedNamingTheFieldAndCreateNothing() {
        create(diskPool("pool-no-node", null, List.of(disk("no-node", 64))));
        create(diskPool("pool-no-disk", "node-1", List.of()));
        create(diskPool("pool-two-disks", "node-1", List.of(disk("two-a", 64), disk("two-b", 64))));
        create(diskPool("pool-bad-uri", "node-1", List.of("/dev/sdb")));

        assertThat(awaitState("pool-no-node", "Error").message()).startsWith("spec.node:");
        assertThat(awaitState("pool-no-disk", "Error").message()).startsWith("spec.disks:").contains("got none");
        assertThat(awaitState("pool-two-disks", "Error").message()).startsWith("spec.disks:").contains("got 2");
        assertThat(awaitState("pool-bad-uri", "Error").message()).startsWith("spec.disks[0]:").contains("/dev/sdb");
        for (String name : List.of("pool-no-node", "pool-no-disk", "pool-two-disks", "pool-bad-uri")) {
            assertThat(get(name).getMetadata().getFinalizers()).as(name + " finalizers").isNullOrEmpty();
            assertThat(rest.get("/v0/pools/" + name).status()).as(name).isEqualTo(404);
        }

        // A pool cannot change disks: changing spec.disks after creation is refused and the pool stays as it was.
        create(diskPool("pool-fixed", "node-1", List.of(disk("fixed", 64))));
        long capacity = awaitState("pool-fixed", "Online").capacity();
        client.resources(DiskPool.class).inNamespace(NS).withName("pool-fixed").patch(PatchContext.of(PatchType.JSON),
                "[{\"op\":\"replace\",\"path\":\"/spec/disks\",\"value\":[\"" + disk("other", 64) + "\"]}]");
        DiskPoolStatus refused = awaitState("pool-fixed", "Error");
        assertThat(refused.message()).startsWith("spec.disks:").contains("cannot change disks").contains(disk("fixed", 64));
        var pool = rest.get("/v0/pools/pool-fixed").json();
        assertThat(pool.path("spec").path("disks").get(0).asText()).isEqualTo(disk("fixed", 64));
        assertThat(pool.path("state").path("status").asText()).isEqualTo("Online");
        assertThat(Files.exists(dir.resolve("other.img"))).as("no disk was made for the refused spec").isFalse();
        // Back to the disks it was made of: Online again, same pool.
        client.resources(DiskPool.class).inNamespace(NS).withName("pool-fixed").patch(PatchContext.of(PatchType.JSON),
                "[{\"op\":\"replace\",\"path\":\"/spec/disks\",\"value\":[\"" + disk("fixed", 64) + "\"]}]");
        assertThat(awaitState("pool-fixed", "Online").capacity()).isEqualTo(capacity);
    }

    @Test
    void withTheGatewayDownItBacksOffAndCreatesThePoolWhenTheGatewayReturns() throws Exception {
        gateway.kill9();
        try {
            create(diskPool("pool-patient", "node-1", List.of(disk("patient", 64))));
            // Watch the status: each failed attempt says its number and the delay before the next one.
            Pattern attempt = Pattern.compile("unreachable.*\\(attempt (\\d+), retrying in ([0-9.]+)s\\)");
            Map<Integer, Double> delays = new java.util.TreeMap<>();
            await("four failed attempts").atMost(DEADLINE).pollInterval(Duration.ofMillis(50)).until(() -> {
                DiskPool dp = get("pool-patient");
                if (dp != null && dp.getStatus() != null && dp.getStatus().message() != null) {
                    Matcher m = attempt.matcher(dp.getStatus().message());
                    if (m.find()) {
                        assertThat(dp.getStatus().state()).isEqualTo("Error");
                        delays.put(Integer.parseInt(m.group(1)), Double.parseDouble(m.group(2)));
                    }
                }
                return delays.keySet().stream().anyMatch(n -> n >= 4);
            });
            // Exponential: 0.5 s doubling (+/-20 % jitter), capped at 4 s.
            List<Integer> seen = new ArrayList<>(delays.keySet());
            for (int i = 1; i < seen.size(); i++) {
                int a = seen.get(i - 1);
                int b = seen.get(i);
                if (delays.get(a) < 3.0) {
                    assertThat(delays.get(b)).as("delay after attempt %d vs %d: %s", b, a, delays).isGreaterThan(delays.get(a));
                }
            }
            assertThat(delays.values()).allMatch(d -> d <= 4.0 * 1.2 + 0.05);
            assertThat(get("pool-patient").getMetadata().getFinalizers()).containsExactly(DiskPool.FINALIZER);
        } finally {
            gateway.start();
        }
        DiskPoolStatus online = awaitState("pool-patient", "Online");
        assertThat(online.capacity()).isPositive();
        assertThat(online.message()).doesNotContain("unreachable");
    }

    @Test
    void aPoolInUseKeepsItsResourceAndARecreatedResourceImportsThePoolWithItsData() throws Exception {
        create(diskPool("pool-kept", "node-1", List.of(disk("kept", 64))));
        long capacity = awaitState("pool-kept", "Online").capacity();
        // A thick replica on it (the only pool there is): the pool is in use and has bytes used.
        String volume = UUID.randomUUID().toString();
        var created = rest.put("/v0/volumes/" + volume, "{\"size\":8388608,\"replicas\":1,\"thin\":false,\"policy\":{\"self_heal\":true}}");
        assertThat(created.status()).as("%s", created).isEqualTo(200);
        await("used bytes reported").atMost(DEADLINE).pollInterval(Duration.ofMillis(200))
                .until(() -> get("pool-kept").getStatus().used() != null && get("pool-kept").getStatus().used() > 0);
        long used = get("pool-kept").getStatus().used();

        // Deleting it is refused while the replica lives there: the resource stays, saying why.
        client.resources(DiskPool.class).inNamespace(NS).withName("pool-kept").delete();
        DiskPoolStatus terminating = awaitState("pool-kept", "Terminating");
        await("in-use reason").atMost(DEADLINE).pollInterval(Duration.ofMillis(200))
                .until(() -> get("pool-kept").getStatus().message().contains("pool in use"));
        assertThat(terminating).isNotNull();
        assertThat(get("pool-kept").getMetadata().getFinalizers()).containsExactly(DiskPool.FINALIZER);
        assertThat(rest.get("/v0/pools/pool-kept").status()).isEqualTo(200);

        // The operator goes away and the resource is lost (its finalizer removed by hand), the pool is not.
        operator.close();
        client.resources(DiskPool.class).inNamespace(NS).withName("pool-kept").patch(PatchContext.of(PatchType.JSON),
                "[{\"op\":\"remove\",\"path\":\"/metadata/finalizers\"}]");
        await("resource gone").atMost(DEADLINE).until(() -> get("pool-kept") == null);
        assertThat(rest.get("/v0/pools/pool-kept").status()).isEqualTo(200);
        // And the node restarts (kill -9): its io-engine forgets the pool, which is only on the disk now.
        IoEngineProcess node1 = cluster.node("node-1");
        node1.kill9();
        node1.start();

        // A new operator, the resource recreated: it takes the pool, imported from the disk with its replica.
        operator = RunningOperator.start(server.createClient(), gatewayUrl, tokenFile, Map.of());
        create(diskPool("pool-kept", "node-1", List.of(disk("kept", 64))));
        DiskPoolStatus imported = awaitState("pool-kept", "Online");
        assertThat(imported.capacity()).isEqualTo(capacity);
        assertThat(imported.used()).isEqualTo(used);
        assertThat(get("pool-kept").getMetadata().getFinalizers()).containsExactly(DiskPool.FINALIZER);
        var v = rest.get("/v0/volumes/" + volume);
        assertThat(v.status()).as("%s", v).isEqualTo(200);

        // Once the volume is gone, deleting the resource destroys the pool.
        assertThat(rest.delete("/v0/volumes/" + volume).status()).isIn(200, 204);
        client.resources(DiskPool.class).inNamespace(NS).withName("pool-kept").delete();
        await("DiskPool gone").atMost(DEADLINE).pollInterval(Duration.ofMillis(200)).until(() -> get("pool-kept") == null);
        assertThat(rest.get("/v0/pools/pool-kept").status()).isEqualTo(404);
    }

    @Test
    void ofTwoReplicasOneLeadsAndTheOtherTakesOverWhenItStops() throws Exception {
        RunningOperator second = RunningOperator.start(server.createClient(), gatewayUrl, tokenFile, Map.of());
        try {
            assertThat(operator.runner().active()).isTrue();
            assertThat(second.runner().active()).as("the second replica waits for the lease").isFalse();
            var health = new Rest(second.baseUrl()).get("/actuator/health");
            assertThat(health.status()).isEqualTo(200);
            assertThat(health.json().path("components").path("diskPoolOperator").path("details").path("role").asText()).isEqualTo("standby");

            operator.close();
            await("the second replica leads").atMost(DEADLINE).until(() -> second.runner().active());
            create(diskPool("pool-second", "node-2", List.of(disk("second", 64))));
            assertThat(awaitState("pool-second", "Online").capacity()).isPositive();
        } finally {
            // The second one stays as the operator for the tests that follow.
            operator = second;
        }
    }
}

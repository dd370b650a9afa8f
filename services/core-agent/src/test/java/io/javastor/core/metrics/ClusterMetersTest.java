package io.javastor.core.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.javastor.api.core.v1.CreateVolumeRequest;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.core.testsupport.EtcdExtension;
import io.javastor.core.testsupport.TestCluster;

/**
 * The core agent's domain meters in /actuator/prometheus (issue 17), after real actions on a real cluster: volumes and
 * nodes by status, replicas present and missing, leadership, each reconciler's step time, placement refusals by
 * reason; a killed node shows as an Offline node, a Degraded volume and a missing replica.
 */
class ClusterMetersTest {
    @RegisterExtension
    static final EtcdExtension etcd = new EtcdExtension();

    static TestCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(etcd.endpoint(), new TestCluster.Settings("meters", "agent-meters", Map.of(), 2, 64, Map.of()));
    }

    @AfterAll
    static void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static String scrape() throws IOException, InterruptedException {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + cluster.agent().httpPort() + "/actuator/prometheus")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    /** The value of the series {@code name{labels...}} (labels as Prometheus prints them, in order), or -1 if absent. */
    private static double value(String text, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " ([0-9.eE+-]+)$").matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }

    @Test
    void metersFollowTheClusterThroughAVolumeARefusalAndANodeLoss() throws Exception {
        var volumes = VolumeServiceGrpc.newBlockingStub(cluster.agent().channel());
        String uuid = UUID.randomUUID().toString();
        volumes.createVolume(CreateVolumeRequest.newBuilder().setUuid(uuid).setSize(4 << 20).setReplicaCount(2).build());

        await("an Online volume with both replicas, two Online nodes, this agent leading").atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            String m = scrape();
            assertThat(value(m, "javastor_volumes{status=\"online\"}")).isEqualTo(1);
            assertThat(value(m, "javastor_volume_replicas{state=\"present\"}")).isEqualTo(2);
            assertThat(value(m, "javastor_nodes{status=\"online\"}")).isEqualTo(2);
            assertThat(value(m, "javastor_leader")).isEqualTo(1);
            assertThat(value(m, "javastor_leader_changes_total{leading=\"true\"}")).isGreaterThanOrEqualTo(1);
            assertThat(m).containsPattern("javastor_reconcile_seconds_count\\{outcome=\"idle\",reconciler=\"[a-z-]+\"\\} [1-9]");
        });

        // A snapshot of it: counted with the replica snapshots it holds.
        io.javastor.api.core.v1.SnapshotServiceGrpc.newBlockingStub(cluster.agent().channel()).createSnapshot(
                io.javastor.api.core.v1.CreateSnapshotRequest.newBuilder().setVolumeId(uuid).setSnapshotId(UUID.randomUUID().toString()).build());
        await("the snapshot counted").atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            String m = scrape();
            assertThat(value(m, "javastor_snapshots{status=\"created\"}")).isEqualTo(1);
            assertThat(value(m, "javastor_snapshot_replicas")).isEqualTo(2);
        });

        // Three replicas on two nodes: refused, and counted by why (no pool was unfit: there are too few).
        assertThatThrownBy(() -> volumes.createVolume(CreateVolumeRequest.newBuilder().setUuid(UUID.randomUUID().toString())
                .setSize(4 << 20).setReplicaCount(3).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
        assertThat(value(scrape(), "javastor_placement_refusals_total{reason=\"too_few_pools\"}")).isEqualTo(1);

        cluster.node("node-2").kill9();
        await("node-2 Offline, the volume Degraded with a replica missing").atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            String m = scrape();
            assertThat(value(m, "javastor_nodes{status=\"offline\"}")).isEqualTo(1);
            assertThat(value(m, "javastor_volumes{status=\"degraded\"}")).isEqualTo(1);
            assertThat(value(m, "javastor_volumes{status=\"online\"}")).isZero();
            assertThat(value(m, "javastor_volume_replicas{state=\"missing\"}")).isEqualTo(1);
        });
    }
}

package io.javastor.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.javastor.gateway.testsupport.RunningGateway;
import io.javastor.gateway.testsupport.RunningGateway.Reply;
import io.javastor.gateway.testsupport.StorageCluster;
import tools.jackson.databind.JsonNode;

/** Node drains, pool labels, replicas outside volumes (create, share, destroy) and a volume's rebuild history. */
class ResourceOperationsApiTest {

    @RegisterExtension
    static final StorageCluster cluster = new StorageCluster();

    private static final long MIB = 1 << 20;
    private static final String HOST = "nqn.2019-05.io.javastor:node-name:node-2";

    private static RunningGateway gw() {
        return cluster.gateway();
    }

    private static void expectError(Reply r, int status, String kind, String messagePart) {
        assertThat(r.status()).as("%s", r).isEqualTo(status);
        assertThat(r.contentType()).startsWith("application/json");
        assertThat(r.json().path("kind").asString()).as("%s", r).isEqualTo(kind);
        assertThat(r.json().path("message").asString()).as("%s", r).contains(messagePart);
        assertThat(r.json().has("details")).isTrue();
        assertThat(r.body()).doesNotContain("Exception", "\tat ", "<html");
    }

    private static String volume(int replicas) {
        String uuid = UUID.randomUUID().toString();
        Reply r = gw().put("/v0/volumes/" + uuid, VolumeApiTest.body(4 * MIB, replicas));
        assertThat(r.status()).as("%s", r).isEqualTo(200);
        return uuid;
    }

    private static Map<String, Object> publishOn(String node) {
        return Map.of("protocol", "nvmf", "publish_context", Map.of(), "node", node);
    }

    // ------------------------------------------------------------------ drain

    @Test
    void aDrainedNodeTakesNothingNewAndReportsDrainingUntilItsTargetsAreGone() {
        String uuid = volume(1);
        Reply published = gw().put("/v0/volumes/" + uuid + "/target", publishOn("node-3"));
        assertThat(published.status()).as("%s", published).isEqualTo(200);
        try {
            Reply drained = gw().put("/v0/nodes/node-3/drain/maintenance");
            assertThat(drained.status()).as("%s", drained).isEqualTo(200);
            JsonNode spec = drained.json().path("spec");
            assertThat(spec.path("drain_labels").toString()).contains("maintenance");
            assertThat(spec.path("cordondrainstate").path("drainingstate").path("drainlabels").toString()).contains("maintenance");
            Reply again = gw().put("/v0/nodes/node-3/drain/maintenance");
            assertThat(again.status()).isEqualTo(200);
            assertThat(again.json().path("spec").path("drain_labels").size()).isEqualTo(1);
            expectError(gw().put("/v0/nodes/node-3/cordon/maintenance"), 409, "AlreadyExists", "drain label");

            // Cordoned by the drain: no replica and no target may go there.
            expectError(gw().put("/v0/volumes/" + UUID.randomUUID(), VolumeApiTest.body(4 * MIB, 3)), 507, "ResourceExhausted",
                    "node-3: node is cordoned");
            String other = volume(1);
            expectError(gw().put("/v0/volumes/" + other + "/target", publishOn("node-3")), 412, "FailedPrecondition", "cordoned");
            assertThat(gw().delete("/v0/volumes/" + other).status()).isEqualTo(204);

            assertThat(gw().delete("/v0/volumes/" + uuid + "/target").status()).isEqualTo(200);
            JsonNode after = gw().get("/v0/nodes/node-3").json().path("spec").path("cordondrainstate");
            assertThat(after.has("drainedstate")).as("%s", after).isTrue();
            assertThat(after.has("drainingstate")).isFalse();

            Reply undrained = gw().delete("/v0/nodes/node-3/cordon/maintenance");
            assertThat(undrained.status()).isEqualTo(200);
            assertThat(undrained.json().path("spec").path("drain_labels").size()).isZero();
            assertThat(undrained.json().path("spec").has("cordondrainstate")).isFalse();
            assertThat(gw().delete("/v0/nodes/node-3/cordon/maintenance").status()).isEqualTo(200);
        } finally {
            gw().delete("/v0/nodes/node-3/cordon/maintenance");
            gw().delete("/v0/volumes/" + uuid);
        }
        expectError(gw().put("/v0/nodes/node-9/drain/x"), 404, "NotFound", "node-9");
        expectError(gw().put("/v0/nodes/node-3/drain/-bad-"), 400, "InvalidArgument", "label");
        expectError(gw().put("/v0/nodes/NODE/drain/x"), 400, "InvalidArgument", "id");
    }

    @Test
    void aCordonShowsAsCordonedState() {
        try {
            Reply cordoned = gw().put("/v0/nodes/node-2/cordon/quiet");
            assertThat(cordoned.json().path("spec").path("cordondrainstate").path("cordonedstate").path("cordonlabels").toString())
                    .contains("quiet");
        } finally {
            assertThat(gw().delete("/v0/nodes/node-2/cordon/quiet").status()).isEqualTo(200);
        }
    }

    // ------------------------------------------------------------------ pool labels

    @Test
    void poolLabelsAreSetOverwrittenOnlyWhenAskedRemovedAndSteerPlacement() {
        try {
            Reply set = gw().put("/v0/pools/pool-node-2/label/tier=gold");
            assertThat(set.status()).as("%s", set).isEqualTo(200);
            assertThat(set.json().path("spec").path("labels").path("tier").asString()).isEqualTo("gold");
            assertThat(set.json().path("spec").path("labels").path("class").asString()).isEqualTo("file");
            assertThat(gw().put("/v0/pools/pool-node-2/label/tier=gold").status()).isEqualTo(200);
            expectError(gw().put("/v0/pools/pool-node-2/label/tier=silver"), 412, "FailedPrecondition", "overwrite");
            Reply overwritten = gw().put("/v0/pools/pool-node-2/label/tier=silver?overwrite=true");
            assertThat(overwritten.json().path("spec").path("labels").path("tier").asString()).isEqualTo("silver");

            Map<String, Object> body = new HashMap<>(VolumeApiTest.body(4 * MIB, 1));
            body.put("topology", Map.of("pool_topology", Map.of("labelled", Map.of("inclusion", Map.of("tier", "silver")))));
            String uuid = UUID.randomUUID().toString();
            Reply placed = gw().put("/v0/volumes/" + uuid, body);
            assertThat(placed.status()).as("%s", placed).isEqualTo(200);
            placed.json().path("state").path("replica_topology").forEach(r -> assertThat(r.path("pool").asString()).isEqualTo("pool-node-2"));
            assertThat(gw().delete("/v0/volumes/" + uuid).status()).isEqualTo(204);
            body.put("replicas", 2);
            expectError(gw().put("/v0/volumes/" + UUID.randomUUID(), body), 507, "ResourceExhausted", "pool lacks topology label tier=silver");
        } finally {
            Reply removed = gw().delete("/v0/pools/pool-node-2/label/tier");
            assertThat(removed.status()).isEqualTo(200);
            assertThat(removed.json().path("spec").path("labels").has("tier")).isFalse();
        }
        assertThat(gw().delete("/v0/pools/pool-node-2/label/tier").status()).isEqualTo(200);
        expectError(gw().put("/v0/pools/none/label/a=b"), 404, "NotFound", "none");
        expectError(gw().delete("/v0/pools/none/label/a"), 404, "NotFound", "none");
        expectError(gw().put("/v0/pools/bad%20id/label/a=b"), 400, "InvalidArgument", "pool_id");
        expectError(gw().put("/v0/pools/pool-node-2/label/tier"), 400, "InvalidArgument", "label: must be key=value");
        expectError(gw().put("/v0/pools/pool-node-2/label/tier=a%20b"), 400, "InvalidArgument", "label");
        expectError(gw().delete("/v0/pools/pool-node-2/label/bad%20key"), 400, "InvalidArgument", "key");
    }

    // ------------------------------------------------------------------ replicas outside volumes

    private static Map<String, Object> replicaBody(Long size, Boolean thin) {
        Map<String, Object> b = new HashMap<>();
        if (size != null) {
            b.put("size", size);
        }
        if (thin != null) {
            b.put("thin", thin);
        }
        return b;
    }

    @Test
    void aReplicaIsCreatedSharedUnsharedAndDestroyedIdempotently() {
        String uuid = UUID.randomUUID().toString();
        String path = "/v0/nodes/node-1/pools/pool-node-1/replicas/" + uuid;
        Reply created = gw().put(path, replicaBody(4 * MIB, true));
        assertThat(created.status()).as("%s", created).isEqualTo(200);
        JsonNode r = created.json();
        assertThat(r.path("uuid").asString()).isEqualTo(uuid);
        assertThat(r.path("node").asString()).isEqualTo("node-1");
        assertThat(r.path("pool").asString()).isEqualTo("pool-node-1");
        assertThat(r.path("size").asLong()).isEqualTo(4 * MIB);
        assertThat(r.path("share").asString()).isEqualTo("none");
        assertThat(r.has("owner")).isFalse();
        assertThat(gw().put(path, replicaBody(4 * MIB, true)).status()).isEqualTo(200);
        expectError(gw().put(path, replicaBody(8 * MIB, true)), 409, "AlreadyExists", "different spec");
        assertThat(gw().get("/v0/replicas/" + uuid).json().path("node").asString()).isEqualTo("node-1");

        Reply shared = gw().put(path + "/share/nvmf?allowed-hosts=" + HOST);
        assertThat(shared.status()).as("%s", shared).isEqualTo(200);
        String uri = shared.json().asString();
        assertThat(uri).startsWith("nvmf://");
        JsonNode seen = gw().get("/v0/replicas/" + uuid).json();
        assertThat(seen.path("share").asString()).isEqualTo("nvmf");
        assertThat(seen.path("uri").asString()).isEqualTo(uri);
        assertThat(seen.path("allowed-hosts").toString()).contains(HOST);
        assertThat(gw().put(path + "/share/nvmf?allowed-hosts=" + HOST).json().asString()).isEqualTo(uri);
        expectError(gw().put(path + "/share/nvmf?allowed-hosts=host-2"), 400, "InvalidArgument", "allowed-hosts[0]");

        assertThat(gw().delete(path + "/share").status()).isEqualTo(204);
        assertThat(gw().get("/v0/replicas/" + uuid).json().path("share").asString()).isEqualTo("none");
        assertThat(gw().delete(path + "/share").status()).isEqualTo(204);

        expectError(gw().delete("/v0/nodes/node-2/pools/pool-node-2/replicas/" + uuid), 404, "NotFound", "replica " + uuid);
        assertThat(gw().delete(path).status()).isEqualTo(204);
        expectError(gw().get("/v0/replicas/" + uuid), 404, "NotFound", "replica");
        assertThat(gw().delete(path).status()).isEqualTo(204);
        expectError(gw().put(path + "/share/nvmf"), 404, "NotFound", "replica " + uuid);
        expectError(gw().delete(path + "/share"), 404, "NotFound", "replica " + uuid);
    }

    @Test
    void poolScopedReplicaPathsWorkTheSame() {
        String uuid = UUID.randomUUID().toString();
        String path = "/v0/pools/pool-node-2/replicas/" + uuid;
        Reply created = gw().put(path, Map.of("size", 4 * MIB, "thin", false, "share", "nvmf"));
        assertThat(created.status()).as("%s", created).isEqualTo(200);
        assertThat(created.json().path("node").asString()).isEqualTo("node-2");
        assertThat(created.json().path("share").asString()).isEqualTo("nvmf");
        assertThat(gw().put(path + "/share/nvmf").json().asString()).startsWith("nvmf://");
        assertThat(gw().delete(path + "/share").status()).isEqualTo(204);
        assertThat(gw().delete(path).status()).isEqualTo(204);
        assertThat(gw().delete(path).status()).isEqualTo(204);
        expectError(gw().put("/v0/pools/none/replicas/" + uuid, replicaBody(MIB, true)), 404, "NotFound", "none");
    }

    @Test
    void aVolumesReplicaIsInUseAndStaysPut() {
        String volume = volume(1);
        JsonNode topology = gw().get("/v0/volumes/" + volume).json().path("state").path("replica_topology");
        String replica = topology.propertyNames().iterator().next();
        String node = topology.path(replica).path("node").asString();
        String pool = topology.path(replica).path("pool").asString();
        String path = "/v0/nodes/" + node + "/pools/" + pool + "/replicas/" + replica;
        try {
            expectError(gw().delete(path), 409, "InUse", volume);
            expectError(gw().delete("/v0/pools/" + pool + "/replicas/" + replica), 409, "InUse", volume);
            expectError(gw().put(path + "/share/nvmf"), 409, "InUse", volume);
            expectError(gw().delete(path + "/share"), 409, "InUse", volume);
            expectError(gw().put(path, replicaBody(4 * MIB, true)), 409, "AlreadyExists", "volume " + volume);
            assertThat(gw().get("/v0/replicas/" + replica).status()).isEqualTo(200);
        } finally {
            assertThat(gw().delete("/v0/volumes/" + volume).status()).isEqualTo(204);
        }
    }

    @Test
    void replicaCreateValidatesEachFieldAndReportsNoSpace() {
        String uuid = UUID.randomUUID().toString();
        String path = "/v0/nodes/node-1/pools/pool-node-1/replicas/" + uuid;
        expectError(gw().put(path, replicaBody(null, true)), 400, "InvalidArgument", "size");
        expectError(gw().put(path, replicaBody(0L, true)), 400, "InvalidArgument", "size");
        expectError(gw().put(path, replicaBody(-1L, true)), 400, "InvalidArgument", "size");
        expectError(gw().put(path, replicaBody(MIB, null)), 400, "InvalidArgument", "thin");
        expectError(gw().put(path, Map.of("size", MIB, "thin", true, "share", "iscsi")), 400, "InvalidArgument", "share");
        expectError(gw().put(path, Map.of("size", MIB, "thin", true, "allowed_hosts", List.of(HOST))), 400, "InvalidArgument",
                "allowed_hosts");
        expectError(gw().put(path, Map.of("size", MIB, "thin", true, "share", "nvmf", "allowed_hosts", List.of("x"))), 400,
                "InvalidArgument", "allowed_hosts[0]");
        expectError(gw().put("/v0/nodes/node-1/pools/pool-node-1/replicas/nope", replicaBody(MIB, true)), 400, "InvalidArgument",
                "replica_id");
        expectError(gw().put("/v0/nodes/Node1/pools/pool-node-1/replicas/" + uuid, replicaBody(MIB, true)), 400, "InvalidArgument",
                "node_id");
        expectError(gw().put("/v0/nodes/node-1/pools/-p/replicas/" + uuid, replicaBody(MIB, true)), 400, "InvalidArgument", "pool_id");
        expectError(gw().put("/v0/nodes/node-2/pools/pool-node-1/replicas/" + uuid, replicaBody(MIB, true)), 404, "NotFound",
                "pool-node-1 on node node-2");
        expectError(gw().put("/v0/nodes/node-1/pools/none/replicas/" + uuid, replicaBody(MIB, true)), 404, "NotFound", "none");
        expectError(gw().put(path, replicaBody(1L << 40, false)), 507, "ResourceExhausted", "");
        // Nothing was left behind by any of these.
        expectError(gw().get("/v0/replicas/" + uuid), 404, "NotFound", "replica");
    }

    // ------------------------------------------------------------------ nexuses

    @Test
    void aVolumesNexusIsChangedThroughTheVolumeOnly() {
        String uuid = volume(1);
        try {
            assertThat(gw().put("/v0/volumes/" + uuid + "/target", publishOn("node-1")).status()).isEqualTo(200);
            String nexus = "/v0/nodes/node-1/nexuses/" + uuid;
            String child = gw().get(nexus + "/children").json().get(0).path("uri").asString();
            assertThat(child).contains("/");
            String encoded = java.net.URLEncoder.encode(child, java.nio.charset.StandardCharsets.UTF_8);
            assertThat(gw().get(nexus + "/children/" + encoded).json().path("uri").asString()).isEqualTo(child);
            expectError(gw().put(nexus, Map.of("size", 4 * MIB, "children", List.of(child))), 409, "InUse", "volume " + uuid);
            expectError(gw().delete(nexus), 409, "InUse", "unpublish the volume");
            expectError(gw().delete("/v0/nexuses/" + uuid), 409, "InUse", "unpublish the volume");
            String other = java.net.URLEncoder.encode("bdev:///" + UUID.randomUUID(), java.nio.charset.StandardCharsets.UTF_8);
            expectError(gw().put(nexus + "/children/" + other), 409, "InUse", "replica count");
            expectError(gw().delete(nexus + "/children/" + encoded), 409, "InUse", "replica count");
            expectError(gw().put(nexus + "/share/nvmf"), 409, "InUse", "publish the volume");
            expectError(gw().delete(nexus + "/share"), 409, "InUse", "unpublish the volume");
            expectError(gw().get(nexus + "/children/" + other), 404, "NotFound", "child bdev:///");
            // Nothing changed: the target still has its child and its address.
            JsonNode after = gw().get("/v0/nexuses/" + uuid).json();
            assertThat(after.path("children").size()).isEqualTo(1);
            assertThat(after.path("protocol").asString()).isEqualTo("nvmf");
        } finally {
            gw().delete("/v0/volumes/" + uuid + "/target");
            assertThat(gw().delete("/v0/volumes/" + uuid).status()).isEqualTo(204);
        }
    }

    // ------------------------------------------------------------------ rebuild history

    @Test
    void aVolumesRebuildsAreItsHistory() {
        String uuid = volume(1);
        try {
            JsonNode none = gw().get("/v0/volumes/" + uuid + "/rebuild-history").json();
            assertThat(none.path("targetUuid").asString()).isEqualTo(uuid);
            assertThat(none.path("records").size()).isZero();
            assertThat(gw().put("/v0/volumes/" + uuid + "/target", publishOn("node-1")).status()).isEqualTo(200);
            Reply scaled = gw().put("/v0/volumes/" + uuid + "/replica_count/2");
            assertThat(scaled.status()).as("%s", scaled).isEqualTo(200);
            Awaitility.await("rebuild of the new replica recorded").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                    .until(() -> {
                        JsonNode records = gw().get("/v0/volumes/" + uuid + "/rebuild-history").json().path("records");
                        return records.size() > 0 && records.get(records.size() - 1).path("rebuildJobState").asString().equals("Completed");
                    });
            JsonNode record = gw().get("/v0/volumes/" + uuid + "/rebuild-history").json().path("records").get(0);
            assertThat(record.path("childUri").asString()).isNotBlank();
            assertThat(record.path("srcUri").asString()).isNotBlank();
            assertThat(record.path("blocksTotal").asLong()).isPositive();
            assertThat(record.path("blocksRecovered").asLong()).isEqualTo(record.path("blocksTotal").asLong());
            assertThat(record.path("blocksRemaining").asLong()).isZero();
            assertThat(record.path("blockSize").asLong()).isPositive();
            assertThat(record.has("isPartial")).isTrue();
            assertThat(record.path("startTime").asString()).isNotBlank();
            assertThat(record.path("endTime").asString()).isNotBlank();
        } finally {
            gw().delete("/v0/volumes/" + uuid + "/target");
            assertThat(gw().delete("/v0/volumes/" + uuid).status()).isEqualTo(204);
        }
        expectError(gw().get("/v0/volumes/" + UUID.randomUUID() + "/rebuild-history"), 404, "NotFound", "volume");
        expectError(gw().get("/v0/volumes/nope/rebuild-history"), 400, "InvalidArgument", "volume_id");
    }
}

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

    private static String volume(int replicas) {
        String uuid = UUID.randomUUID().toString();
        Reply r = gw().put("/v0/volumes/" + uuid, VolumeApiTest.body(4 * MIB, replicas));
        assertThat(r.status()).as("%s", r).isEqualTo(200);
        return uuid;
    }

    private static Map<String, Object> publishOn(String node) {
        return Map.of("protocol", "nvmf", "publish_context", Map.of(), "node", node, "frontend_node", "app-1");
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
            assertThat(spec.has("drain_labels")).as("Mayastor's current node shape: cordondrainstate only").isFalse();
            assertThat(spec.path("cordondrainstate").path("drainingstate").path("drainlabels").toString()).contains("maintenance");
            Reply again = gw().put("/v0/nodes/node-3/drain/maintenance");
            assertThat(again.status()).isEqualTo(200);
            assertThat(again.json().path("spec").path("cordondrainstate").path("drainingstate").path("drainlabels").size()).isEqualTo(1);
            gw().put("/v0/nodes/node-3/cordon/maintenance").assertError(409, "AlreadyExists", "drain label");

            // Cordoned by the drain: no replica and no target may go there.
            gw().put("/v0/volumes/" + UUID.randomUUID(), VolumeApiTest.body(4 * MIB, 3)).assertError(507, "ResourceExhausted",
                    "node-3: node is cordoned");
            String other = volume(1);
            gw().put("/v0/volumes/" + other + "/target", publishOn("node-3")).assertError(412, "FailedPrecondition", "cordoned");
            assertThat(gw().delete("/v0/volumes/" + other).status()).isEqualTo(204);

            assertThat(gw().delete("/v0/volumes/" + uuid + "/target").status()).isEqualTo(200);
            JsonNode after = gw().get("/v0/nodes/node-3").json().path("spec").path("cordondrainstate");
            assertThat(after.has("drainedstate")).as("%s", after).isTrue();
            assertThat(after.has("drainingstate")).isFalse();

            Reply undrained = gw().delete("/v0/nodes/node-3/cordon/maintenance");
            assertThat(undrained.status()).isEqualTo(200);
            assertThat(undrained.json().path("spec").has("cordondrainstate")).isFalse();
            assertThat(gw().delete("/v0/nodes/node-3/cordon/maintenance").status()).isEqualTo(200);
        } finally {
            gw().delete("/v0/nodes/node-3/cordon/maintenance");
            gw().delete("/v0/volumes/" + uuid);
        }
        gw().put("/v0/nodes/node-9/drain/x").assertError(404, "NotFound", "node-9");
        gw().put("/v0/nodes/node-3/drain/-bad-").assertError(400, "InvalidArgument", "label");
        gw().put("/v0/nodes/NODE/drain/x").assertError(400, "InvalidArgument", "id");
    }

    // ------------------------------------------------------------------ target move (issue 14)

    @Test
    void republishMovesThePublishedTargetToAnotherNodeWithANewAddress() {
        String uuid = volume(2);
        try {
            Reply published = gw().put("/v0/volumes/" + uuid + "/target", publishOn("node-1"));
            assertThat(published.status()).as("%s", published).isEqualTo(200);
            String before = published.json().path("state").path("target").path("deviceUri").asString();
            Map<String, Object> move = Map.of("protocol", "nvmf", "publish_context", Map.of(), "node", "node-3", "republish", true);
            Reply moved = gw().put("/v0/volumes/" + uuid + "/target", move);
            assertThat(moved.status()).as("%s", moved).isEqualTo(200);
            assertThat(moved.json().path("spec").path("target").path("node").asString()).isEqualTo("node-3");
            Reply now = gw().get("/v0/volumes/" + uuid);
            String after = now.json().path("state").path("target").path("deviceUri").asString();
            assertThat(after).as("a new target, on node-3's address").isNotEqualTo(before).isNotEmpty();
            assertThat(gw().get("/v0/events?resource_id=" + uuid).json().toString()).contains("TargetMoved");
            assertThat(gw().delete("/v0/volumes/" + uuid + "/shutdown_targets").status()).as("no old target left: nothing to do")
                    .isEqualTo(204);
            assertThat(gw().get("/v0/volumes/" + uuid).json().path("state").path("target").path("deviceUri").asString())
                    .as("the current target stays").isEqualTo(after);
            gw().delete("/v0/volumes/" + UUID.randomUUID() + "/shutdown_targets").assertError(404, "NotFound", "");
            Reply again = gw().put("/v0/volumes/" + uuid + "/target", move);
            assertThat(again.status()).as("already there: nothing moves").isEqualTo(200);
            assertThat(gw().get("/v0/volumes/" + uuid).json().path("state").path("target").path("deviceUri").asString()).isEqualTo(after);
        } finally {
            gw().delete("/v0/volumes/" + uuid);
        }
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
            gw().put("/v0/pools/pool-node-2/label/tier=silver").assertError(412, "FailedPrecondition", "overwrite");
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
            gw().put("/v0/volumes/" + UUID.randomUUID(), body).assertError(507, "ResourceExhausted", "pool lacks topology label tier=silver");
        } finally {
            Reply removed = gw().delete("/v0/pools/pool-node-2/label/tier");
            assertThat(removed.status()).isEqualTo(200);
            assertThat(removed.json().path("spec").path("labels").has("tier")).isFalse();
        }
        assertThat(gw().delete("/v0/pools/pool-node-2/label/tier").status()).isEqualTo(200);
        gw().put("/v0/pools/none/label/a=b").assertError(404, "NotFound", "none");
        gw().delete("/v0/pools/none/label/a").assertError(404, "NotFound", "none");
        gw().put("/v0/pools/bad%20id/label/a=b").assertError(400, "InvalidArgument", "pool_id");
        gw().put("/v0/pools/pool-node-2/label/tier").assertError(400, "InvalidArgument", "label: must be key=value");
        gw().put("/v0/pools/pool-node-2/label/tier=a%20b").assertError(400, "InvalidArgument", "label");
        gw().delete("/v0/pools/pool-node-2/label/bad%20key").assertError(400, "InvalidArgument", "key");
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
        gw().put(path, replicaBody(8 * MIB, true)).assertError(409, "AlreadyExists", "different spec");
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
        gw().put(path + "/share/nvmf?allowed-hosts=host-2").assertError(400, "InvalidArgument", "allowed-hosts[0]");

        assertThat(gw().delete(path + "/share").status()).isEqualTo(204);
        assertThat(gw().get("/v0/replicas/" + uuid).json().path("share").asString()).isEqualTo("none");
        assertThat(gw().delete(path + "/share").status()).isEqualTo(204);

        gw().delete("/v0/nodes/node-2/pools/pool-node-2/replicas/" + uuid).assertError(404, "NotFound", "replica " + uuid);
        assertThat(gw().delete(path).status()).isEqualTo(204);
        gw().get("/v0/replicas/" + uuid).assertError(404, "NotFound", "replica");
        assertThat(gw().delete(path).status()).isEqualTo(204);
        gw().put(path + "/share/nvmf?allowed-hosts=" + HOST).assertError(404, "NotFound", "replica " + uuid);
        gw().delete(path + "/share").assertError(404, "NotFound", "replica " + uuid);
    }

    @Test
    void poolScopedReplicaPathsWorkTheSame() {
        String uuid = UUID.randomUUID().toString();
        String path = "/v0/pools/pool-node-2/replicas/" + uuid;
        // Shared at once only to named hosts; refused before anything is made.
        gw().put(path, Map.of("size", 4 * MIB, "thin", false, "share", "nvmf")).assertError(400, "InvalidArgument", "allowed_hosts");
        gw().get("/v0/replicas/" + uuid).assertError(404, "NotFound", "replica");
        Reply created = gw().put(path, Map.of("size", 4 * MIB, "thin", false, "share", "nvmf", "allowed_hosts", List.of(HOST)));
        assertThat(created.status()).as("%s", created).isEqualTo(200);
        assertThat(created.json().path("node").asString()).isEqualTo("node-2");
        assertThat(created.json().path("share").asString()).isEqualTo("nvmf");
        gw().put(path + "/share/nvmf").assertError(400, "InvalidArgument", "allowed-hosts");
        assertThat(gw().put(path + "/share/nvmf?allowed-hosts=" + HOST).json().asString()).startsWith("nvmf://");
        assertThat(gw().delete(path + "/share").status()).isEqualTo(204);
        assertThat(gw().delete(path).status()).isEqualTo(204);
        assertThat(gw().delete(path).status()).isEqualTo(204);
        gw().put("/v0/pools/none/replicas/" + uuid, replicaBody(MIB, true)).assertError(404, "NotFound", "none");
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
            gw().delete(path).assertError(409, "InUse", volume);
            gw().delete("/v0/pools/" + pool + "/replicas/" + replica).assertError(409, "InUse", volume);
            gw().put(path + "/share/nvmf?allowed-hosts=" + HOST).assertError(409, "InUse", volume);
            gw().delete(path + "/share").assertError(409, "InUse", volume);
            gw().put(path, replicaBody(4 * MIB, true)).assertError(409, "AlreadyExists", "volume " + volume);
            assertThat(gw().get("/v0/replicas/" + replica).status()).isEqualTo(200);
        } finally {
            assertThat(gw().delete("/v0/volumes/" + volume).status()).isEqualTo(204);
        }
    }

    @Test
    void replicaCreateValidatesEachFieldAndReportsNoSpace() {
        String uuid = UUID.randomUUID().toString();
        String path = "/v0/nodes/node-1/pools/pool-node-1/replicas/" + uuid;
        gw().put(path, replicaBody(null, true)).assertError(400, "InvalidArgument", "size");
        gw().put(path, replicaBody(0L, true)).assertError(400, "InvalidArgument", "size");
        gw().put(path, replicaBody(-1L, true)).assertError(400, "InvalidArgument", "size");
        gw().put(path, replicaBody(MIB, null)).assertError(400, "InvalidArgument", "thin");
        gw().put(path, Map.of("size", MIB, "thin", true, "share", "iscsi")).assertError(400, "InvalidArgument", "share");
        gw().put(path, Map.of("size", MIB, "thin", true, "allowed_hosts", List.of(HOST))).assertError(400, "InvalidArgument",
                "allowed_hosts");
        gw().put(path, Map.of("size", MIB, "thin", true, "share", "nvmf", "allowed_hosts", List.of("x"))).assertError(400,
                "InvalidArgument", "allowed_hosts[0]");
        gw().put("/v0/nodes/node-1/pools/pool-node-1/replicas/nope", replicaBody(MIB, true)).assertError(400, "InvalidArgument",
                "replica_id");
        gw().put("/v0/nodes/Node1/pools/pool-node-1/replicas/" + uuid, replicaBody(MIB, true)).assertError(400, "InvalidArgument",
                "node_id");
        gw().put("/v0/nodes/node-1/pools/-p/replicas/" + uuid, replicaBody(MIB, true)).assertError(400, "InvalidArgument", "pool_id");
        gw().put("/v0/nodes/node-2/pools/pool-node-1/replicas/" + uuid, replicaBody(MIB, true)).assertError(404, "NotFound",
                "pool-node-1 on node node-2");
        gw().put("/v0/nodes/node-1/pools/none/replicas/" + uuid, replicaBody(MIB, true)).assertError(404, "NotFound", "none");
        gw().put(path, replicaBody(1L << 40, false)).assertError(507, "ResourceExhausted", "");
        // Nothing was left behind by any of these.
        gw().get("/v0/replicas/" + uuid).assertError(404, "NotFound", "replica");
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
            gw().put(nexus, Map.of("size", 4 * MIB, "children", List.of(child))).assertError(409, "InUse", "volume " + uuid);
            gw().delete(nexus).assertError(409, "InUse", "unpublish the volume");
            gw().delete("/v0/nexuses/" + uuid).assertError(409, "InUse", "unpublish the volume");
            String other = java.net.URLEncoder.encode("bdev:///" + UUID.randomUUID(), java.nio.charset.StandardCharsets.UTF_8);
            gw().put(nexus + "/children/" + other).assertError(409, "InUse", "replica count");
            gw().delete(nexus + "/children/" + encoded).assertError(409, "InUse", "replica count");
            gw().put(nexus + "/share/nvmf?allowed-hosts=" + HOST).assertError(409, "InUse", "publish the volume");
            gw().delete(nexus + "/share").assertError(409, "InUse", "unpublish the volume");
            gw().get(nexus + "/children/" + other).assertError(404, "NotFound", "child bdev:///");
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
        gw().get("/v0/volumes/" + UUID.randomUUID() + "/rebuild-history").assertError(404, "NotFound", "volume");
        gw().get("/v0/volumes/nope/rebuild-history").assertError(400, "InvalidArgument", "volume_id");
    }
}

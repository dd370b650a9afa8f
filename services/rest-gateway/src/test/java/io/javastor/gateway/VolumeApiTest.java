package io.javastor.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.javastor.gateway.testsupport.RunningGateway;
import io.javastor.gateway.testsupport.RunningGateway.Reply;
import io.javastor.gateway.testsupport.StorageCluster;
import tools.jackson.databind.JsonNode;

/** /v0/volumes/** against a real core agent, etcd and three io-engines. */
class VolumeApiTest {

    @RegisterExtension
    static final StorageCluster cluster = new StorageCluster();

    private static final long MIB = 1 << 20;

    private static RunningGateway gw() {
        return cluster.gateway();
    }

    static Map<String, Object> body(long size, int replicas) {
        Map<String, Object> b = new HashMap<>();
        b.put("size", size);
        b.put("replicas", replicas);
        b.put("thin", true);
        b.put("policy", Map.of("self_heal", true));
        return b;
    }

    private static Map<String, Object> with(Map<String, Object> b, String key, Object value) {
        Map<String, Object> out = new HashMap<>(b);
        if (value == null) {
            out.remove(key);
        } else {
            out.put(key, value);
        }
        return out;
    }

    private static String create(long size, int replicas) {
        String uuid = UUID.randomUUID().toString();
        Reply r = gw().put("/v0/volumes/" + uuid, body(size, replicas));
        assertThat(r.status()).as("%s", r).isEqualTo(200);
        return uuid;
    }

    @Test
    void createAnswersTheVolumeAndRepeatingItAnswersTheSame() {
        String uuid = UUID.randomUUID().toString();
        Reply first = gw().put("/v0/volumes/" + uuid, with(body(8 * MIB, 2), "topology",
                Map.of("pool_topology", Map.of("labelled", Map.of("inclusion", Map.of("class", "file"))))));
        assertThat(first.status()).as("%s", first).isEqualTo(200);
        JsonNode v = first.json();
        assertThat(v.path("spec").path("uuid").asString()).isEqualTo(uuid);
        assertThat(v.path("spec").path("size").asLong()).isEqualTo(8 * MIB);
        assertThat(v.path("spec").path("num_replicas").asInt()).isEqualTo(2);
        assertThat(v.path("spec").path("status").asString()).isEqualTo("Created");
        assertThat(v.path("spec").path("thin").asBoolean()).isTrue();
        assertThat(v.path("spec").path("policy").path("self_heal").asBoolean()).isTrue();
        assertThat(v.path("spec").path("num_snapshots").asInt()).isZero();
        assertThat(v.path("spec").path("topology").path("pool_topology").path("labelled").path("inclusion").path("class").asString())
                .isEqualTo("file");
        assertThat(v.path("state").path("uuid").asString()).isEqualTo(uuid);
        JsonNode topology = v.path("state").path("replica_topology");
        assertThat(topology.size()).isEqualTo(2);
        Set<String> nodes = new HashSet<>();
        topology.properties().forEach(e -> {
            assertThat(UUID.fromString(e.getKey())).isNotNull();
            nodes.add(e.getValue().path("node").asString());
            assertThat(e.getValue().path("pool").asString()).isEqualTo(StorageCluster.poolOf(e.getValue().path("node").asString()));
            assertThat(e.getValue().path("state").asString()).isIn("Online", "Unknown");
        });
        assertThat(nodes).hasSize(2).isSubsetOf(StorageCluster.NODES);

        Reply again = gw().put("/v0/volumes/" + uuid, with(body(8 * MIB, 2), "topology",
                Map.of("pool_topology", Map.of("labelled", Map.of("inclusion", Map.of("class", "file"))))));
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.json().path("spec")).isEqualTo(v.path("spec"));
        assertThat(again.json().path("state").path("replica_topology").propertyNames())
                .containsExactlyInAnyOrderElementsOf(topology.propertyNames());

        Reply got = gw().get("/v0/volumes/" + uuid);
        assertThat(got.status()).isEqualTo(200);
        assertThat(got.json().path("spec")).isEqualTo(v.path("spec"));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(gw().get("/v0/volumes/" + uuid).json().path("state").path("status").asString()).isEqualTo("Online"));
    }

    @Test
    void createWithAnotherSpecIsAConflict() {
        String uuid = create(8 * MIB, 1);
        gw().put("/v0/volumes/" + uuid, body(16 * MIB, 1)).assertError(409, "AlreadyExists", uuid);
    }

    @Test
    void noPoolLargeEnoughAnswers507() {
        String uuid = UUID.randomUUID().toString();
        gw().put("/v0/volumes/" + uuid, with(body(1L << 40, 1), "thin", false)).assertError(507, "ResourceExhausted", "");
        assertThat(gw().get("/v0/volumes/" + uuid).status()).isEqualTo(404);
    }

    @Test
    void badInputNamesTheField() {
        String uuid = UUID.randomUUID().toString();
        String path = "/v0/volumes/" + uuid;
        gw().put("/v0/volumes/not-a-uuid", body(MIB, 1)).assertError(400, "InvalidArgument", "volume_id");
        gw().put(path, with(body(MIB, 1), "size", null)).assertError(400, "InvalidArgument", "size: is required");
        gw().put(path, with(body(MIB, 1), "size", 0)).assertError(400, "InvalidArgument", "size: must be a positive");
        gw().put(path, with(body(MIB, 1), "size", -5)).assertError(400, "InvalidArgument", "size");
        gw().put(path, with(body(MIB, 1), "size", "big")).assertError(400, "InvalidArgument", "size");
        gw().put(path, with(body(MIB, 1), "replicas", null)).assertError(400, "InvalidArgument", "replicas: is required");
        gw().put(path, with(body(MIB, 1), "replicas", 0)).assertError(400, "InvalidArgument", "replicas: must be 1..16");
        gw().put(path, with(body(MIB, 1), "replicas", 17)).assertError(400, "InvalidArgument", "replicas: must be 1..16");
        gw().put(path, with(body(MIB, 1), "thin", null)).assertError(400, "InvalidArgument", "thin: is required");
        gw().put(path, with(body(MIB, 1), "thin", "maybe")).assertError(400, "InvalidArgument", "thin");
        gw().put(path, with(body(MIB, 1), "policy", null)).assertError(400, "InvalidArgument", "policy: is required");
        gw().put(path, with(body(MIB, 1), "policy", Map.of())).assertError(400, "InvalidArgument", "policy.self_heal: is required");
        gw().put(path, with(body(MIB, 1), "policy", Map.of("self_heal", false))).assertError(422, "Unsupported", "policy.self_heal");
        gw().put(path, with(body(MIB, 1), "labels", Map.of("bad key!", "x"))).assertError(400, "InvalidArgument", "labels");
        gw().put(path, with(body(MIB, 1), "labels", Map.of("app", "db"))).assertError(422, "Unsupported", "labels");
        gw().put(path, with(body(MIB, 1), "max_snapshots", -1)).assertError(400, "InvalidArgument", "max_snapshots");
        gw().put(path, with(body(MIB, 1), "affinity_group", Map.of("id", "no spaces"))).assertError(400, "InvalidArgument",
                "affinity_group.id");
        gw().put(path, with(body(MIB, 1), "topology", Map.of("node_topology",
                Map.of("explicit", Map.of("allowed_nodes", List.of("node-1"), "preferred_nodes", List.of()))))).assertError(422, "Unsupported",
                "topology.node_topology.explicit");
        gw().put(path, with(body(MIB, 1), "topology", Map.of("node_topology",
                Map.of("labelled", Map.of("inclusion", Map.of("-bad", "x")))))).assertError(400, "InvalidArgument",
                "topology.node_topology.labelled.inclusion");
        gw().put(path, with(body(MIB, 1), "topology", Map.of("pool_topology",
                Map.of("labelled", Map.of("exclusion", Map.of("class", "ssd")))))).assertError(422, "Unsupported",
                "topology.pool_topology.labelled.exclusion");
        gw().put(path, "{not json").assertError(400, "InvalidArgument", "body");
        gw().put(path, "").assertError(400, "InvalidArgument", "body");
        // Nothing of the above reached the agent.
        gw().get(path).assertError(404, "NotFound", uuid);
    }

    @Test
    void getAndDeleteOfUnknownVolumes() {
        String uuid = UUID.randomUUID().toString();
        gw().get("/v0/volumes/" + uuid).assertError(404, "NotFound", uuid);
        gw().get("/v0/volumes/xyz").assertError(400, "InvalidArgument", "volume_id");
        gw().delete("/v0/volumes/xyz").assertError(400, "InvalidArgument", "volume_id");
        // Destroying what is gone succeeds (the agent's destroy is idempotent).
        assertThat(gw().delete("/v0/volumes/" + uuid).status()).isEqualTo(204);
    }

    @Test
    void deleteAnswers204AndTheReplicasGo() {
        String uuid = create(8 * MIB, 2);
        java.util.Collection<String> replicas = gw().get("/v0/volumes/" + uuid).json().path("state").path("replica_topology").propertyNames();
        Reply deleted = gw().delete("/v0/volumes/" + uuid);
        assertThat(deleted.status()).isEqualTo(204);
        assertThat(deleted.body()).isEmpty();
        assertThat(gw().get("/v0/volumes/" + uuid).status()).isEqualTo(404);
        for (String r : replicas) {
            assertThat(gw().get("/v0/replicas/" + r).status()).isEqualTo(404);
        }
        assertThat(gw().delete("/v0/volumes/" + uuid).status()).isEqualTo(204);
    }

    @Test
    void replicaCountScalesUpAndDown() {
        String uuid = create(8 * MIB, 1);
        Reply up = gw().put("/v0/volumes/" + uuid + "/replica_count/3");
        assertThat(up.status()).as("%s", up).isEqualTo(200);
        assertThat(up.json().path("spec").path("num_replicas").asInt()).isEqualTo(3);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(gw().get("/v0/volumes/" + uuid).json().path("state").path("replica_topology").size()).isEqualTo(3));
        Reply same = gw().put("/v0/volumes/" + uuid + "/replica_count/3");
        assertThat(same.status()).isEqualTo(200);
        Reply down = gw().put("/v0/volumes/" + uuid + "/replica_count/2");
        assertThat(down.status()).as("%s", down).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(gw().get("/v0/volumes/" + uuid).json().path("state").path("replica_topology").size()).isEqualTo(2));
        gw().put("/v0/volumes/" + uuid + "/replica_count/0").assertError(400, "InvalidArgument", "replica_count: must be 1..16");
        gw().put("/v0/volumes/" + uuid + "/replica_count/17").assertError(400, "InvalidArgument", "replica_count");
        gw().put("/v0/volumes/" + uuid + "/replica_count/two").assertError(400, "InvalidArgument", "replica_count");
        gw().put("/v0/volumes/" + uuid + "/replica_count/4").assertError(507, "ResourceExhausted", "");
        gw().put("/v0/volumes/" + UUID.randomUUID() + "/replica_count/2").assertError(404, "NotFound", "");
    }

    /** The gateway reuses the listing's JSON while the agent answers the same: each change must still show at once. */
    @Test
    void theListingShowsEveryChangeOfAVolumeAtOnce() {
        String uuid = create(8 * MIB, 1);
        try {
            assertThat(listed(uuid).path("spec").path("size").asLong()).isEqualTo(8 * MIB);
            Reply again = gw().get("/v0/volumes");
            assertThat(again.contentType()).startsWith("application/json");
            assertThat(again.json().path("entries").isArray()).isTrue();
            gw().send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(gw().baseUrl() + "/v0/volumes")).GET(),
                    Map.of("Accept", "application/xml")).assertError(406, "NotAcceptable", "");

            assertThat(gw().put("/v0/volumes/" + uuid + "/size", Map.of("size", 16 * MIB)).status()).isEqualTo(200);
            assertThat(listed(uuid).path("spec").path("size").asLong()).as("resized").isEqualTo(16 * MIB);
            assertThat(gw().put("/v0/volumes/" + uuid + "/property", Map.of("max_snapshots", 3)).status()).isEqualTo(200);
            assertThat(listed(uuid).path("spec").path("max_snapshots").asInt()).as("a property set").isEqualTo(3);

            Reply published = gw().put("/v0/volumes/" + uuid + "/target", Map.of("protocol", "nvmf", "publish_context", Map.of(),
                    "frontend_node", "app-1"));
            assertThat(published.status()).as("%s", published).isEqualTo(200);
            String node = published.json().path("spec").path("target").path("node").asString();
            assertThat(listed(uuid).path("spec").path("target").path("node").asString()).as("published").isEqualTo(node);
            assertThat(listed(uuid).path("state").path("target").path("deviceUri").asString()).as("its target, as its node reports it")
                    .isEqualTo(published.json().path("state").path("target").path("deviceUri").asString());

            assertThat(gw().delete("/v0/volumes/" + uuid + "/target").status()).isEqualTo(200);
            assertThat(listed(uuid).path("spec").has("target")).as("unpublished").isFalse();
            assertThat(listed(uuid).path("state").has("target")).isFalse();
        } finally {
            assertThat(gw().delete("/v0/volumes/" + uuid).status()).isEqualTo(204);
        }
        List<String> left = new ArrayList<>();
        gw().get("/v0/volumes").json().path("entries").forEach(v -> left.add(v.path("spec").path("uuid").asString()));
        assertThat(left).as("destroyed").doesNotContain(uuid);
    }

    /** The volume's entry in the whole listing. */
    private static JsonNode listed(String uuid) {
        Reply all = gw().get("/v0/volumes");
        assertThat(all.status()).as("%s", all).isEqualTo(200);
        for (JsonNode v : all.json().path("entries")) {
            if (v.path("spec").path("uuid").asString().equals(uuid)) {
                return v;
            }
        }
        throw new AssertionError("volume " + uuid + " is not listed: " + all.body());
    }

    @Test
    void sizeOnlyGrows() {
        String uuid = create(8 * MIB, 1);
        Reply grown = gw().put("/v0/volumes/" + uuid + "/size", Map.of("size", 16 * MIB));
        assertThat(grown.status()).as("%s", grown).isEqualTo(200);
        assertThat(grown.json().path("spec").path("size").asLong()).isEqualTo(16 * MIB);
        assertThat(gw().put("/v0/volumes/" + uuid + "/size", Map.of("size", 16 * MIB)).status()).isEqualTo(200);
        gw().put("/v0/volumes/" + uuid + "/size", Map.of("size", 8 * MIB)).assertError(400, "InvalidArgument", "size");
        gw().put("/v0/volumes/" + uuid + "/size", Map.of("size", 0)).assertError(400, "InvalidArgument", "size: must be a positive");
        gw().put("/v0/volumes/" + uuid + "/size", Map.of()).assertError(400, "InvalidArgument", "size: is required");
        gw().put("/v0/volumes/" + UUID.randomUUID() + "/size", Map.of("size", MIB)).assertError(404, "NotFound", "");
    }

    @Test
    void publishValidatesItsBodyAndUnpublishOfAnUnpublishedVolume() {
        String uuid = create(8 * MIB, 1);
        String path = "/v0/volumes/" + uuid + "/target";
        gw().put(path, Map.of("publish_context", Map.of())).assertError(400, "InvalidArgument", "protocol: is required");
        gw().put(path, Map.of("protocol", "iscsi", "publish_context", Map.of())).assertError(400, "InvalidArgument", "protocol");
        gw().put(path, Map.of("protocol", "nvmf")).assertError(400, "InvalidArgument", "publish_context: is required");
        gw().put(path, Map.of("protocol", "nvmf", "publish_context", Map.of(), "node", "Node_1")).assertError(400, "InvalidArgument",
                "node");
        gw().put(path, Map.of("protocol", "nvmf", "publish_context", Map.of(), "frontend_node", "")).assertError(400,
                "InvalidArgument", "frontend_node");
        // Never published to every host: the host that will connect is named.
        gw().put(path, Map.of("protocol", "nvmf", "publish_context", Map.of())).assertError(400, "InvalidArgument",
                "frontend_node: is required");
        gw().put(path, Map.of("protocol", "nvmf", "publish_context", Map.of(), "republish", true, "frontend_node", "app-1")).assertError(400,
                "InvalidArgument", "frontend_node: a republish keeps the hosts");
        assertThat(gw().get("/v0/volumes/" + uuid).json().path("spec").has("target")).as("nothing published by refused calls").isFalse();
        gw().put(path, Map.of("protocol", "nvmf", "publish_context", Map.of(), "republish", true)).assertError(412, "FailedPrecondition",
                "not published");
        gw().put("/v0/volumes/bad/target", Map.of("protocol", "nvmf", "publish_context", Map.of())).assertError(400,
                "InvalidArgument", "volume_id");
    }

    @Test
    void listIsPagedInUuidOrder() {
        List<String> created = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            created.add(create(4 * MIB, 1));
        }
        List<String> all = new ArrayList<>();
        Reply whole = gw().get("/v0/volumes");
        assertThat(whole.status()).isEqualTo(200);
        assertThat(whole.json().has("next_token")).isFalse();
        whole.json().path("entries").forEach(v -> all.add(v.path("spec").path("uuid").asString()));
        assertThat(all).containsAll(created).isSorted();

        List<String> paged = new ArrayList<>();
        String token = null;
        int pages = 0;
        do {
            Reply page = gw().get("/v0/volumes?max_entries=2" + (token == null ? "" : "&starting_token=" + token));
            assertThat(page.status()).isEqualTo(200);
            assertThat(page.json().path("entries").size()).isLessThanOrEqualTo(2);
            page.json().path("entries").forEach(v -> paged.add(v.path("spec").path("uuid").asString()));
            token = page.json().has("next_token") ? page.json().path("next_token").asString() : null;
            pages++;
        } while (token != null);
        // Other tests create volumes concurrently only in other classes; this class runs its methods one by one.
        assertThat(paged).containsAll(created).isSorted().doesNotHaveDuplicates();
        assertThat(pages).isGreaterThanOrEqualTo(3);
        Reply beyond = gw().get("/v0/volumes?max_entries=2&starting_token=100000");
        assertThat(beyond.status()).isEqualTo(200);
        assertThat(beyond.json().path("entries").size()).isZero();
        assertThat(beyond.json().has("next_token")).isFalse();
        gw().get("/v0/volumes?max_entries=-1").assertError(400, "InvalidArgument", "max_entries");
        gw().get("/v0/volumes?starting_token=-1").assertError(400, "InvalidArgument", "starting_token");
        gw().get("/v0/volumes?starting_token=abc").assertError(400, "InvalidArgument", "starting_token");
    }

    @Test
    void propertyMaxSnapshotsIsSetAndOtherPropertiesAreRefusedByName() {
        String uuid = create(4 * MIB, 1);
        Reply set = gw().put("/v0/volumes/" + uuid + "/property", Map.of("max_snapshots", 0));
        assertThat(set.status()).as("%s", set).isEqualTo(200);
        assertThat(set.json().path("spec").path("uuid").asString()).isEqualTo(uuid);
        assertThat(gw().put("/v0/volumes/" + uuid + "/property", Map.of("max_snapshots", 0)).status()).as("again").isEqualTo(200);

        Reply ten = gw().put("/v0/volumes/" + uuid + "/property", Map.of("max_snapshots", 10));
        assertThat(ten.status()).as("%s", ten).isEqualTo(200);
        assertThat(ten.json().path("spec").path("max_snapshots").asInt()).isEqualTo(10);
        assertThat(gw().get("/v0/volumes/" + uuid).json().path("spec").path("max_snapshots").asInt()).isEqualTo(10);
        assertThat(gw().put("/v0/volumes/" + uuid + "/property", Map.of("max_snapshots", 0)).json().path("spec").has("max_snapshots"))
                .as("0: no limit, not shown").isFalse();
        gw().put("/v0/volumes/" + uuid + "/property", Map.of("max_snapshots", -1)).assertError(400, "InvalidArgument", "max_snapshots");
        gw().put("/v0/volumes/" + uuid + "/property", Map.of("max_snapshots", "ten")).assertError(400, "InvalidArgument", "max_snapshots");
        gw().put("/v0/volumes/" + uuid + "/property", Map.of("replicas", 2)).assertError(400, "InvalidArgument", "replicas");
        gw().put("/v0/volumes/" + uuid + "/property", Map.of()).assertError(400, "InvalidArgument", "body");
        gw().put("/v0/volumes/" + uuid + "/property", Map.of("max_snapshots", 0, "thin", true)).assertError(400, "InvalidArgument", "body");
        gw().put("/v0/volumes/" + uuid + "/property").assertError(400, "InvalidArgument", "body");
        gw().put("/v0/volumes/" + UUID.randomUUID() + "/property", Map.of("max_snapshots", 0)).assertError(404, "NotFound", "");
        gw().put("/v0/volumes/nope/property", Map.of("max_snapshots", 0)).assertError(400, "InvalidArgument", "volume_id");
        assertThat(gw().delete("/v0/volumes/" + uuid).status()).isEqualTo(204);
    }

    @Test
    void aPublishedVolumesShareIsItsTargetsUriAndIsNotUnsharedFromUnderItsHost() {
        String uuid = create(4 * MIB, 1);
        try {
            // Unpublished: nothing shared, nothing to unshare; sharing needs a publish (which names the host).
            gw().put("/v0/volumes/" + uuid + "/share/nvmf").assertError(412, "FailedPrecondition", "not published");
            assertThat(gw().delete("/v0/volumes/" + uuid + "/share").status()).isEqualTo(204);
            assertThat(gw().delete("/v0/volumes" + uuid + "/share").status()).as("Mayastor's spelling of the path").isEqualTo(204);

            Reply published = gw().put("/v0/volumes/" + uuid + "/target", Map.of("protocol", "nvmf", "publish_context", Map.of(),
                    "frontend_node", "app-1"));
            assertThat(published.status()).as("%s", published).isEqualTo(200);
            String deviceUri = published.json().path("state").path("target").path("deviceUri").asString();
            assertThat(deviceUri).startsWith("nvmf://");

            Reply shared = gw().put("/v0/volumes/" + uuid + "/share/nvmf");
            assertThat(shared.status()).as("%s", shared).isEqualTo(200);
            assertThat(shared.json().asString()).isEqualTo(deviceUri);
            assertThat(gw().put("/v0/volumes/" + uuid + "/share/nvmf?frontend_host=app-1").json().asString()).isEqualTo(deviceUri);
            gw().put("/v0/volumes/" + uuid + "/share/nvmf?frontend_host=app-2").assertError(412, "FailedPrecondition", "frontend_host");
            gw().put("/v0/volumes/" + uuid + "/share/nvmf?frontend_host=App_2").assertError(400, "InvalidArgument", "frontend_host");
            gw().put("/v0/volumes/" + uuid + "/share/iscsi").assertError(422, "Unsupported", "iscsi");
            gw().put("/v0/volumes/" + uuid + "/share/nbd").assertError(400, "InvalidArgument", "protocol");
            gw().delete("/v0/volumes/" + uuid + "/share").assertError(409, "InUse", "unpublish");
            gw().delete("/v0/volumes" + uuid + "/share").assertError(409, "InUse", "unpublish");
            assertThat(gw().get("/v0/volumes/" + uuid).json().path("state").path("target").path("deviceUri").asString())
                    .as("still shared").isEqualTo(deviceUri);
            gw().put("/v0/volumes/" + UUID.randomUUID() + "/share/nvmf").assertError(404, "NotFound", "");
            gw().delete("/v0/volumes/" + UUID.randomUUID() + "/share").assertError(404, "NotFound", "");
        } finally {
            assertThat(gw().delete("/v0/volumes/" + uuid).status()).isEqualTo(204);
        }
    }
}

package io.javastor.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import tools.jackson.databind.JsonNode;

import io.javastor.gateway.testsupport.RunningGateway;
import io.javastor.gateway.testsupport.RunningGateway.Reply;
import io.javastor.gateway.testsupport.StorageCluster;
import tools.jackson.databind.JsonNode;

/** Nodes, pools, replicas, nexuses, specs, events, and the answers to requests no route takes. */
class ClusterResourcesApiTest {

    @RegisterExtension
    static final StorageCluster cluster = new StorageCluster();

    private static final long MIB = 1 << 20;

    private static RunningGateway gw() {
        return cluster.gateway();
    }

    private static String volume(int replicas) {
        String uuid = UUID.randomUUID().toString();
        Reply r = gw().put("/v0/volumes/" + uuid, VolumeApiTest.body(4 * MIB, replicas));
        assertThat(r.status()).as("%s", r).isEqualTo(200);
        return uuid;
    }

    // ------------------------------------------------------------------ nodes

    @Test
    void nodesAreListedAndReadOne() {
        Reply all = gw().get("/v0/nodes");
        assertThat(all.status()).isEqualTo(200);
        List<String> ids = new ArrayList<>();
        all.json().forEach(n -> ids.add(n.path("id").asString()));
        assertThat(ids).containsAll(StorageCluster.NODES);
        JsonNode n = gw().get("/v0/nodes/node-1").json();
        assertThat(n.path("id").asString()).isEqualTo("node-1");
        assertThat(n.path("spec").path("grpcEndpoint").asString()).startsWith("127.0.0.1:");
        assertThat(n.path("state").path("status").asString()).isEqualTo("Online");
        assertThat(n.path("state").path("grpcEndpoint").asString()).isEqualTo(n.path("spec").path("grpcEndpoint").asString());
        gw().get("/v0/nodes/node-9").assertError(404, "NotFound", "node-9");
        gw().get("/v0/nodes/Bad_Node").assertError(400, "InvalidArgument", "id");
    }

    @Test
    void cordonAndUncordonAreIdempotent() {
        Reply cordoned = gw().put("/v0/nodes/node-3/cordon/maintenance");
        assertThat(cordoned.status()).as("%s", cordoned).isEqualTo(200);
        // Mayastor's current v0 node shape: cordons are told by cordondrainstate alone, no separate label lists.
        JsonNode cordonSpec = cordoned.json().path("spec");
        assertThat(cordonSpec.path("cordondrainstate").path("cordonedstate").path("cordonlabels").toString()).contains("maintenance");
        assertThat(cordonSpec.has("cordon_labels")).isFalse();
        assertThat(cordonSpec.has("drain_labels")).isFalse();
        assertThat(gw().put("/v0/nodes/node-3/cordon/maintenance").json().path("spec").path("cordondrainstate").path("cordonedstate")
                .path("cordonlabels").size()).isEqualTo(1);
        Reply uncordoned = gw().delete("/v0/nodes/node-3/cordon/maintenance");
        assertThat(uncordoned.status()).isEqualTo(200);
        assertThat(uncordoned.json().path("spec").has("cordondrainstate")).isFalse();
        assertThat(gw().delete("/v0/nodes/node-3/cordon/maintenance").status()).isEqualTo(200);
        gw().put("/v0/nodes/node-9/cordon/x").assertError(404, "NotFound", "node-9");
        gw().put("/v0/nodes/node-3/cordon/-bad-").assertError(400, "InvalidArgument", "label");
        gw().put("/v0/nodes/NODE/cordon/x").assertError(400, "InvalidArgument", "id");
    }

    @Test
    void labelsAreSetOverwrittenOnlyWhenAskedAndRemoved() {
        Reply set = gw().put("/v0/nodes/node-2/label/zone=a");
        assertThat(set.status()).as("%s", set).isEqualTo(200);
        assertThat(set.json().path("spec").path("labels").path("zone").asString()).isEqualTo("a");
        assertThat(gw().put("/v0/nodes/node-2/label/zone=a").status()).isEqualTo(200);
        gw().put("/v0/nodes/node-2/label/zone=b").assertError(412, "FailedPrecondition", "overwrite");
        Reply overwritten = gw().put("/v0/nodes/node-2/label/zone=b?overwrite=true");
        assertThat(overwritten.json().path("spec").path("labels").path("zone").asString()).isEqualTo("b");
        Reply removed = gw().delete("/v0/nodes/node-2/label/zone");
        assertThat(removed.status()).isEqualTo(200);
        assertThat(removed.json().path("spec").path("labels").has("zone")).isFalse();
        assertThat(gw().delete("/v0/nodes/node-2/label/zone").status()).isEqualTo(200);
        gw().put("/v0/nodes/node-2/label/zone").assertError(400, "InvalidArgument", "label: must be key=value");
        gw().put("/v0/nodes/node-2/label/=b").assertError(400, "InvalidArgument", "label");
        gw().put("/v0/nodes/node-2/label/zone=a%20b").assertError(400, "InvalidArgument", "label");
        gw().delete("/v0/nodes/node-2/label/bad%20key").assertError(400, "InvalidArgument", "key");
        gw().put("/v0/nodes/node-9/label/zone=a").assertError(404, "NotFound", "node-9");
    }

    // ------------------------------------------------------------------ pools

    @Test
    void poolsAreListedPerClusterAndPerNode() {
        Reply all = gw().get("/v0/pools");
        assertThat(all.status()).isEqualTo(200);
        List<String> ids = new ArrayList<>();
        all.json().forEach(p -> ids.add(p.path("id").asString()));
        assertThat(ids).contains("pool-node-1", "pool-node-2", "pool-node-3");
        JsonNode p = gw().get("/v0/pools/pool-node-1").json();
        assertThat(p.path("spec").path("node").asString()).isEqualTo("node-1");
        assertThat(p.path("spec").path("status").asString()).isEqualTo("Created");
        assertThat(p.path("spec").path("labels").path("class").asString()).isEqualTo("file");
        assertThat(p.path("state").path("status").asString()).isEqualTo("Online");
        assertThat(p.path("state").path("capacity").asLong()).isPositive();
        assertThat(p.path("state").path("disks").get(0).asString()).startsWith("uring://");
        Reply onNode = gw().get("/v0/nodes/node-2/pools");
        assertThat(onNode.json().size()).isEqualTo(1);
        assertThat(onNode.json().get(0).path("id").asString()).isEqualTo("pool-node-2");
        assertThat(gw().get("/v0/nodes/node-2/pools/pool-node-2").status()).isEqualTo(200);
        gw().get("/v0/nodes/node-1/pools/pool-node-2").assertError(404, "NotFound", "pool-node-2 on node node-1");
        gw().get("/v0/pools/none").assertError(404, "NotFound", "none");
        gw().get("/v0/pools/bad%20id").assertError(400, "InvalidArgument", "pool_id");
        gw().get("/v0/nodes/node-9/pools").assertError(404, "NotFound", "node-9");
    }

    @Test
    void poolLifecycleOnANode() {
        String disk = "malloc:///rest-extra?size_mb=16";
        Reply created = gw().put("/v0/nodes/node-1/pools/extra", Map.of("disks", List.of(disk), "labels", Map.of("tier", "mem")));
        assertThat(created.status()).as("%s", created).isEqualTo(200);
        assertThat(created.json().path("spec").path("disks").get(0).asString()).isEqualTo(disk);
        Reply again = gw().put("/v0/nodes/node-1/pools/extra", Map.of("disks", List.of(disk), "labels", Map.of("tier", "mem")));
        assertThat(again.status()).isEqualTo(200);
        gw().put("/v0/nodes/node-1/pools/extra", Map.of("disks", List.of("malloc:///other?size_mb=16"))).assertError(409,
                "AlreadyExists", "extra");
        gw().delete("/v0/nodes/node-2/pools/extra").assertError(404, "NotFound", "extra on node node-2");
        Reply deleted = gw().delete("/v0/nodes/node-1/pools/extra");
        assertThat(deleted.status()).isEqualTo(204);
        gw().get("/v0/pools/extra").assertError(404, "NotFound", "extra");
        assertThat(gw().delete("/v0/pools/extra").status()).isEqualTo(204);
    }

    @Test
    void poolCreateValidatesEachField() {
        String path = "/v0/nodes/node-1/pools/p-bad";
        gw().put(path, Map.of()).assertError(400, "InvalidArgument", "disks");
        gw().put(path, Map.of("disks", List.of())).assertError(400, "InvalidArgument", "disks");
        gw().put(path, Map.of("disks", List.of("nbd:///x"))).assertError(400, "InvalidArgument", "disks[0]: scheme");
        gw().put(path, Map.of("disks", List.of("uring://"))).assertError(400, "InvalidArgument", "disks[0]");
        gw().put(path, Map.of("disks", List.of("malloc:///m?size_mb=8"), "labels", Map.of("k", "bad value"))).assertError(400,
                "InvalidArgument", "labels.k");
        gw().put("/v0/nodes/node-1/pools/-x", Map.of("disks", List.of("malloc:///m?size_mb=8"))).assertError(400, "InvalidArgument",
                "pool_id");
        gw().put("/v0/nodes/N1/pools/p", Map.of("disks", List.of("malloc:///m?size_mb=8"))).assertError(400, "InvalidArgument",
                "node_id");
        gw().put("/v0/nodes/node-9/pools/p-x", Map.of("disks", List.of("malloc:///m?size_mb=8"))).assertError(404, "NotFound",
                "node-9");
        gw().get("/v0/pools/p-bad").assertError(404, "NotFound", "p-bad");
    }

    @Test
    void aPoolOffTheNodesAllowListIsRefusedAndTheNodesBlockDevicesSayWhy() {
        gw().put("/v0/nodes/node-1/pools/sneaky", Map.of("disks", List.of("uring:///etc/hostname"))).assertError(400, "InvalidArgument",
                "not on this engine's disk allow-list");
        gw().get("/v0/pools/sneaky").assertError(404, "NotFound", "sneaky");
        gw().put("/v0/nodes/node-1/pools/big", Map.of("disks", List.of("malloc:///big?size_mb=100000"), "erase_existing", true))
                .assertError(400, "InvalidArgument", "exceeds this engine's limit");

        Reply all = gw().get("/v0/nodes/node-1/block_devices?all=true");
        assertThat(all.status()).as("%s", all).isEqualTo(200);
        assertThat(all.json().isArray()).isTrue();
        for (JsonNode d : all.json()) {
            assertThat(d.path("devname").asString()).startsWith("/dev/");
            assertThat(d.path("available").asBoolean() || !d.path("unavailable_reason").asString().isEmpty())
                    .as("%s says why it is unavailable", d).isTrue();
        }
        // The test engines allow pools only in the temporary folder: none of this machine's devices is available.
        assertThat(gw().get("/v0/nodes/node-1/block_devices").json().size()).isZero();
        gw().get("/v0/nodes/node-9/block_devices").assertError(404, "NotFound", "node-9");
        gw().get("/v0/nodes/N1/block_devices").assertError(400, "InvalidArgument", "id");
    }

    @Test
    void aPoolHoldingReplicasIsInUse() {
        String uuid = volume(3);
        gw().delete("/v0/pools/pool-node-1").assertError(409, "InUse", "pool-node-1");
        assertThat(gw().delete("/v0/volumes/" + uuid).status()).isEqualTo(204);
    }

    // ------------------------------------------------------------------ replicas

    @Test
    void replicasAreFoundEveryWay() {
        String uuid = volume(2);
        JsonNode topology = gw().get("/v0/volumes/" + uuid).json().path("state").path("replica_topology");
        String replica = topology.propertyNames().iterator().next();
        String node = topology.path(replica).path("node").asString();
        String pool = topology.path(replica).path("pool").asString();

        JsonNode r = gw().get("/v0/replicas/" + replica).json();
        assertThat(r.path("uuid").asString()).isEqualTo(replica);
        assertThat(r.path("node").asString()).isEqualTo(node);
        assertThat(r.path("pool").asString()).isEqualTo(pool);
        assertThat(r.path("size").asLong()).isGreaterThanOrEqualTo(4 * MIB);
        assertThat(r.path("thin").asBoolean()).isTrue();
        assertThat(r.path("share").asString()).isIn("none", "nvmf");
        assertThat(r.path("kind").asString()).isEqualTo("Regular");
        assertThat(r.path("owner").asString()).isEqualTo(uuid);
        assertThat(r.has("uri")).isTrue();

        List<String> all = new ArrayList<>();
        gw().get("/v0/replicas").json().forEach(x -> all.add(x.path("uuid").asString()));
        assertThat(all).containsAll(topology.propertyNames());
        List<String> onNode = new ArrayList<>();
        gw().get("/v0/nodes/" + node + "/replicas").json().forEach(x -> onNode.add(x.path("uuid").asString()));
        assertThat(onNode).contains(replica);
        List<String> inPool = new ArrayList<>();
        gw().get("/v0/nodes/" + node + "/pools/" + pool + "/replicas").json().forEach(x -> inPool.add(x.path("uuid").asString()));
        assertThat(inPool).contains(replica);
        assertThat(gw().get("/v0/nodes/" + node + "/pools/" + pool + "/replicas/" + replica).json().path("uuid").asString())
                .isEqualTo(replica);

        String other = StorageCluster.NODES.stream().filter(n -> !n.equals(node)).findFirst().orElseThrow();
        gw().get("/v0/nodes/" + other + "/pools/" + pool + "/replicas/" + replica).assertError(404, "NotFound", "on node " + other);
        gw().get("/v0/replicas/" + UUID.randomUUID()).assertError(404, "NotFound", "replica");
        gw().get("/v0/replicas/nope").assertError(400, "InvalidArgument", "id");
        gw().get("/v0/nodes/" + node + "/pools/" + pool + "/replicas/nope").assertError(400, "InvalidArgument", "replica_id");
        gw().get("/v0/nodes/node-9/replicas").assertError(404, "NotFound", "node-9");
    }

    // ------------------------------------------------------------------ nexuses

    @Test
    void anUnpublishedVolumeHasNoNexus() {
        String uuid = volume(1);
        gw().get("/v0/nexuses/" + uuid).assertError(404, "NotFound", "nexus " + uuid);
        List<String> nexuses = new ArrayList<>();
        gw().get("/v0/nexuses").json().forEach(n -> nexuses.add(n.path("uuid").asString()));
        assertThat(nexuses).doesNotContain(uuid);
        assertThat(gw().get("/v0/nodes/node-1/nexuses").status()).isEqualTo(200);
        gw().get("/v0/nodes/node-1/nexuses/" + uuid).assertError(404, "NotFound", "nexus " + uuid + " on node node-1");
        gw().get("/v0/nodes/node-1/nexuses/" + uuid + "/children").assertError(404, "NotFound", "nexus");
        gw().get("/v0/nexuses/x").assertError(400, "InvalidArgument", "nexus_id");
        gw().get("/v0/nodes/node-9/nexuses").assertError(404, "NotFound", "node-9");
    }

    @Test
    void aPublishedVolumeHasANexusOnItsTargetNodeUntilUnpublished() {
        String uuid = volume(2);
        Map<String, Object> publish = Map.of("protocol", "nvmf", "publish_context", Map.of("io_timeout", "30"), "node", "node-1",
                "frontend_node", "node-3");
        Reply published = gw().put("/v0/volumes/" + uuid + "/target", publish);
        assertThat(published.status()).as("%s", published).isEqualTo(200);
        assertThat(published.json().path("spec").path("target").path("node").asString()).isEqualTo("node-1");
        assertThat(published.json().path("spec").path("target").path("protocol").asString()).isEqualTo("nvmf");

        JsonNode nexus = gw().get("/v0/nexuses/" + uuid).json();
        assertThat(nexus.path("uuid").asString()).isEqualTo(uuid);
        assertThat(nexus.path("node").asString()).isEqualTo("node-1");
        assertThat(nexus.path("protocol").asString()).isEqualTo("nvmf");
        assertThat(nexus.path("deviceUri").asString()).isNotBlank();
        assertThat(nexus.path("size").asLong()).isEqualTo(4 * MIB);
        assertThat(nexus.path("children").size()).isEqualTo(2);
        assertThat(nexus.path("state").asString()).isIn("Online", "Degraded");
        assertThat(nexus.path("rebuilds").isNumber()).isTrue();
        // The real nexus: its children are the URIs it uses (local bdev:/// or a shared replica's nvmf://), with their state.
        for (JsonNode c : nexus.path("children")) {
            assertThat(c.path("uri").asString()).matches("(bdev:///|nvmf://).+");
            assertThat(c.path("state").asString()).isIn("Online", "Degraded");
        }
        JsonNode target = published.json().path("state").path("target");
        assertThat(target.path("uuid").asString()).isEqualTo(uuid);
        assertThat(target.path("deviceUri").asString()).isEqualTo(nexus.path("deviceUri").asString());
        assertThat(target.path("children").size()).isEqualTo(2);
        published.json().path("state").path("replica_topology").forEach(r -> assertThat(r.path("child-status").asString()).isIn("Online", "Degraded"));

        List<String> onNode = new ArrayList<>();
        gw().get("/v0/nodes/node-1/nexuses").json().forEach(n -> onNode.add(n.path("uuid").asString()));
        assertThat(onNode).contains(uuid);
        List<String> all = new ArrayList<>();
        gw().get("/v0/nexuses").json().forEach(n -> all.add(n.path("uuid").asString()));
        assertThat(all).contains(uuid);
        assertThat(gw().get("/v0/nodes/node-1/nexuses/" + uuid).json().path("uuid").asString()).isEqualTo(uuid);
        assertThat(gw().get("/v0/nodes/node-1/nexuses/" + uuid + "/children").json().size()).isEqualTo(2);
        gw().get("/v0/nodes/node-2/nexuses/" + uuid).assertError(404, "NotFound", "on node node-2");

        Reply unpublished = gw().delete("/v0/volumes/" + uuid + "/target");
        assertThat(unpublished.status()).as("%s", unpublished).isEqualTo(200);
        assertThat(unpublished.json().path("spec").has("target")).isFalse();
        gw().get("/v0/nexuses/" + uuid).assertError(404, "NotFound", "nexus " + uuid);
        gw().put("/v0/volumes/" + UUID.randomUUID() + "/target", publish).assertError(404, "NotFound", "");
        assertThat(gw().delete("/v0/volumes/" + uuid).status()).isEqualTo(204);
    }

    // ------------------------------------------------------------------ specs and events

    @Test
    void specsShowTheStoredIntent() {
        String uuid = volume(1);
        JsonNode specs = gw().get("/v0/specs").json();
        for (String kind : List.of("volumes", "pools", "replicas", "nexuses", "nodes")) {
            assertThat(specs.path(kind).isArray()).as(kind).isTrue();
        }
        List<String> volumes = new ArrayList<>();
        specs.path("volumes").forEach(v -> volumes.add(v.path("id").asString()));
        assertThat(volumes).contains(uuid);
        specs.path("volumes").forEach(v -> {
            if (v.path("id").asString().equals(uuid)) {
                assertThat(v.path("status").asString()).isEqualTo("Created");
                assertThat(v.path("mod_revision").asLong()).isPositive();
                assertThat(v.path("spec").isObject()).isTrue();
            }
        });
        List<String> pools = new ArrayList<>();
        specs.path("pools").forEach(p -> pools.add(p.path("id").asString()));
        assertThat(pools).contains("pool-node-1");
    }

    @Test
    void eventsAreFilteredAndPaged() {
        String uuid = volume(1);
        JsonNode mine = gw().get("/v0/events?resource_id=" + uuid).json();
        assertThat(mine.path("total").asLong()).isPositive();
        List<String> kinds = new ArrayList<>();
        mine.path("entries").forEach(e -> {
            assertThat(e.path("resource_id").asString()).isEqualTo(uuid);
            assertThat(e.path("resource_kind").asString()).isEqualTo("volume");
            assertThat(e.path("severity").asString()).isIn("Info", "Warning", "Error");
            kinds.add(e.path("kind").asString());
        });
        assertThat(kinds).contains("VolumeCreated");
        JsonNode created = gw().get("/v0/events?kind=PoolCreated&page_size=1").json();
        assertThat(created.path("total").asLong()).isGreaterThanOrEqualTo(3);
        assertThat(created.path("entries").size()).isEqualTo(1);
        assertThat(created.path("next_page").asInt()).isEqualTo(1);
        JsonNode second = gw().get("/v0/events?kind=PoolCreated&page_size=1&page=1").json();
        assertThat(second.path("entries").get(0).path("id").asLong()).isNotEqualTo(created.path("entries").get(0).path("id").asLong());
        JsonNode none = gw().get("/v0/events?resource_id=" + uuid + "&from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z").json();
        assertThat(none.path("total").asLong()).isZero();
        assertThat(none.has("next_page")).isFalse();
        gw().get("/v0/events?from=yesterday").assertError(400, "InvalidArgument", "from");
        gw().get("/v0/events?from=2020-01-02T00:00:00Z&to=2020-01-01T00:00:00Z").assertError(400, "InvalidArgument", "to");
        gw().get("/v0/events?page=-1").assertError(400, "InvalidArgument", "page");
        gw().get("/v0/events?page_size=0").assertError(400, "InvalidArgument", "page_size");
        gw().get("/v0/events?page_size=1001").assertError(400, "InvalidArgument", "page_size");
    }

    // ------------------------------------------------------------------ what no route takes

    @Test
    void unknownPathsWrongMethodsAndMediaTypesAnswerJson() {
        gw().get("/v0/no-such-thing").assertError(404, "NotFound", "/v0/no-such-thing");
        gw().get("/").assertError(404, "NotFound", "");
        gw().send(HttpRequest.newBuilder(URI.create(gw().baseUrl() + "/v0/nodes")).header("Accept", "text/html").GET()
                .method("PATCH", HttpRequest.BodyPublishers.noBody()), Map.of()).assertError(405, "MethodNotAllowed", "PATCH");
        gw().send(HttpRequest.newBuilder(URI.create(gw().baseUrl() + "/v0/volumes/" + UUID.randomUUID()))
                .PUT(HttpRequest.BodyPublishers.ofString("size=1")), Map.of("Content-Type", "text/plain")).assertError(415,
                "UnsupportedMediaType", "text/plain");
        gw().send(HttpRequest.newBuilder(URI.create(gw().baseUrl() + "/v0/no/such/page")).GET(),
                Map.of("Accept", "text/html")).assertError(404, "NotFound", "");
    }

    @Test
    void aBodyOverTheLimitIsRefusedBeforeAnythingReadsIt() {
        String big = "{\"size\":8388608,\"pad\":\"" + "x".repeat(80 * 1024) + "\"}";
        String volume = "/v0/volumes/" + UUID.randomUUID();
        gw().sendWithoutToken(HttpRequest.newBuilder(URI.create(gw().baseUrl() + volume)).PUT(HttpRequest.BodyPublishers.ofString(big)),
                Map.of("Content-Type", "application/json")).assertError(413, "PayloadTooLarge", "the limit is 65536 bytes");
        // Chunked (no Content-Length): counted while read, refused once past the cap.
        gw().send(HttpRequest.newBuilder(URI.create(gw().baseUrl() + volume)).PUT(HttpRequest.BodyPublishers.ofInputStream(
                () -> new java.io.ByteArrayInputStream(big.getBytes(java.nio.charset.StandardCharsets.UTF_8)))),
                Map.of("Content-Type", "application/json")).assertError(413, "PayloadTooLarge", "chunked");
        gw().get(volume).assertError(404, "NotFound", "");
        // A small chunked body still works.
        gw().send(HttpRequest.newBuilder(URI.create(gw().baseUrl() + volume)).PUT(HttpRequest.BodyPublishers.ofInputStream(
                () -> new java.io.ByteArrayInputStream("{\"size\":-1}".getBytes(java.nio.charset.StandardCharsets.UTF_8)))),
                Map.of("Content-Type", "application/json")).assertError(400, "InvalidArgument", "size");
    }

    @Test
    void healthAndPerEndpointMetrics() {
        assertThat(gw().get("/actuator/health").json().path("status").asString()).isEqualTo("UP");
        assertThat(gw().get("/actuator/health/readiness").status()).isEqualTo(200);
        assertThat(gw().get("/actuator/health/liveness").status()).isEqualTo(200);
        gw().get("/v0/pools");
        gw().get("/v0/volumes/" + UUID.randomUUID());
        String metrics = gw().get("/actuator/prometheus").body();
        assertThat(metrics).containsPattern("http_server_requests_seconds_count\\{[^}]*uri=\"/v0/pools\"");
        assertThat(metrics).containsPattern("http_server_requests_seconds_count\\{[^}]*status=\"404\"[^}]*uri=\"/v0/volumes/\\{volume_id\\}\"");
        assertThat(metrics).contains("resilience4j_circuitbreaker_state");
    }
}

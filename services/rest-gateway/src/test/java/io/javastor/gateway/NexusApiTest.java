package io.javastor.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
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

/**
 * Nexuses made outside volumes through the REST API, over replicas made outside volumes, against the real cluster:
 * create, children, share, destroy; their idempotence, the bad input and the conflicts.
 */
class NexusApiTest {

    @RegisterExtension
    static final StorageCluster cluster = new StorageCluster();

    private static final long MIB = 1 << 20;

    private static RunningGateway gw() {
        return cluster.gateway();
    }

    private static String encoded(String uri) {
        return URLEncoder.encode(uri, StandardCharsets.UTF_8);
    }

    /** A replica outside volumes on node-1; its local child URI. */
    private static String replica(String uuid) {
        Reply r = gw().put("/v0/nodes/node-1/pools/pool-node-1/replicas/" + uuid, Map.of("size", 8 * MIB, "thin", false));
        assertThat(r.status()).as("%s", r).isEqualTo(200);
        return "bdev:///" + uuid;
    }

    private static Map<String, Object> body(long size, List<String> children) {
        Map<String, Object> b = new HashMap<>();
        b.put("size", size);
        b.put("children", children);
        return b;
    }

    /** The nexus's entry of GET /v0/specs (Mayastor's NexusSpec), or null. */
    static JsonNode nexusSpec(String uuid) {
        for (JsonNode e : gw().get("/v0/specs").json().path("nexuses")) {
            if (e.path("uuid").asString().equals(uuid)) {
                return e;
            }
        }
        return null;
    }

    private static List<String> uuids(Reply list) {
        assertThat(list.status()).as("%s", list).isEqualTo(200);
        List<String> out = new ArrayList<>();
        list.json().forEach(n -> out.add(n.path("uuid").asString()));
        return out;
    }

    @Test
    void aNexusOutsideVolumesIsCreatedChangedSharedAndDestroyed() {
        String r1 = UUID.randomUUID().toString();
        String r2 = UUID.randomUUID().toString();
        String uri1 = replica(r1);
        String uri2 = replica(r2);
        String uuid = UUID.randomUUID().toString();
        String nexus = "/v0/nodes/node-1/nexuses/" + uuid;
        try {
            Reply created = gw().put(nexus, body(4 * MIB, List.of(uri1)));
            assertThat(created.status()).as("%s", created).isEqualTo(200);
            JsonNode n = created.json();
            assertThat(n.path("uuid").asString()).isEqualTo(uuid);
            assertThat(n.path("node").asString()).isEqualTo("node-1");
            assertThat(n.path("size").asLong()).isEqualTo(4 * MIB);
            assertThat(n.path("state").asString()).isEqualTo("Online");
            assertThat(n.path("protocol").asString()).isEqualTo("none");
            assertThat(n.path("deviceUri").asString()).isEmpty();
            assertThat(n.path("rebuilds").asInt()).isZero();
            assertThat(n.path("children").size()).isEqualTo(1);
            assertThat(n.path("children").get(0).path("uri").asString()).isEqualTo(uri1);
            assertThat(n.path("children").get(0).path("state").asString()).isEqualTo("Online");

            // Idempotent; another spec for the same uuid is a conflict, and changes nothing.
            Reply again = gw().put(nexus, body(4 * MIB, List.of(uri1)));
            assertThat(again.status()).as("%s", again).isEqualTo(200);
            assertThat(again.json().path("uuid").asString()).isEqualTo(uuid);
            gw().put(nexus, body(8 * MIB, List.of(uri1))).assertError(409, "AlreadyExists", "different spec");
            gw().put("/v0/nodes/node-2/nexuses/" + uuid, body(4 * MIB, List.of(uri1))).assertError(409, "AlreadyExists", "node node-1");

            // Read from the nodes' inventory, everywhere it is listed.
            assertThat(gw().get("/v0/nexuses/" + uuid).json().path("node").asString()).isEqualTo("node-1");
            // Its spec, as Mayastor's NexusSpec: made outside volumes, so not managed and without an owner.
            JsonNode spec = nexusSpec(uuid);
            assertThat(spec).as("the nexus's spec").isNotNull();
            assertThat(spec.path("status").asString()).isEqualTo("Created");
            assertThat(spec.path("managed").asBoolean(true)).isFalse();
            assertThat(spec.has("owner")).isFalse();
            assertThat(spec.path("node").asString()).isEqualTo("node-1");
            assertThat(spec.path("size").asLong()).isEqualTo(4 * MIB);
            assertThat(spec.path("share").asString()).isEqualTo("none");
            assertThat(spec.path("children").toString()).isEqualTo("[\"" + uri1 + "\"]");
            assertThat(uuids(gw().get("/v0/nexuses"))).contains(uuid);
            assertThat(uuids(gw().get("/v0/nodes/node-1/nexuses"))).contains(uuid);
            assertThat(uuids(gw().get("/v0/nodes/node-2/nexuses"))).doesNotContain(uuid);
            gw().get("/v0/nodes/node-2/nexuses/" + uuid).assertError(404, "NotFound", "on node node-2");
            assertThat(gw().get(nexus + "/children").json().get(0).path("uri").asString()).isEqualTo(uri1);
            assertThat(gw().get(nexus + "/children/" + encoded(uri1)).json().path("uri").asString()).isEqualTo(uri1);
            gw().get(nexus + "/children/" + encoded(uri2)).assertError(404, "NotFound", "child " + uri2);

            // A second child: rebuilt from the first, then Online.
            Reply added = gw().put(nexus + "/children/" + encoded(uri2));
            assertThat(added.status()).as("%s", added).isEqualTo(200);
            assertThat(added.json().path("uri").asString()).isEqualTo(uri2);
            assertThat(added.json().path("state").asString()).isIn("Online", "Degraded");
            Awaitility.await("the added child rebuilt").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500)).until(() -> {
                JsonNode now = gw().get("/v0/nexuses/" + uuid).json();
                boolean allOnline = true;
                for (JsonNode c : now.path("children")) {
                    allOnline &= c.path("state").asString().equals("Online");
                }
                return now.path("children").size() == 2 && now.path("rebuilds").asInt() == 0 && allOnline;
            });
            assertThat(gw().put(nexus + "/children/" + encoded(uri2)).status()).isEqualTo(200);
            assertThat(gw().get(nexus + "/children").json().size()).isEqualTo(2);
            // Its spec lists the child too: creating it again with the original children alone is another spec now.
            gw().put(nexus, body(4 * MIB, List.of(uri1))).assertError(409, "AlreadyExists", "different spec");
            assertThat(gw().put(nexus, body(4 * MIB, List.of(uri2, uri1))).status()).isEqualTo(200);

            Reply removed = gw().delete(nexus + "/children/" + encoded(uri2));
            assertThat(removed.status()).as("%s", removed).isEqualTo(204);
            assertThat(gw().delete(nexus + "/children/" + encoded(uri2)).status()).isEqualTo(204);
            assertThat(gw().get(nexus + "/children").json().size()).isEqualTo(1);
            // The last child stays (the nexus would serve nothing): destroy the nexus instead.
            Reply last = gw().delete(nexus + "/children/" + encoded(uri1));
            last.assertError(412, "FailedPrecondition", "only child");
            assertThat(gw().get(nexus + "/children").json().size()).isEqualTo(1);
            // The replica under a child cannot be destroyed from under the nexus; the one removed from it can.
            String replicaPath = "/v0/nodes/node-1/pools/pool-node-1/replicas/";
            gw().delete(replicaPath + r1).assertError(409, "InUse", "child " + uri1 + " of nexus " + uuid);
            assertThat(gw().get(replicaPath + r1).status()).isEqualTo(200);
            assertThat(gw().delete(replicaPath + r2).status()).isEqualTo(204);

            // Never to every host: each named host authenticates with its own pair.
            gw().put(nexus + "/share/nvmf").assertError(400, "InvalidArgument", "allowed-hosts");
            assertThat(gw().get(nexus).json().path("protocol").asString()).isEqualTo("none");
            String host = "nqn.2019-05.io.javastor:node-name:app-1";
            Reply shared = gw().put(nexus + "/share/nvmf?allowed-hosts=" + host);
            assertThat(shared.status()).as("%s", shared).isEqualTo(200);
            String deviceUri = shared.json().asString();
            assertThat(deviceUri).startsWith("nvmf://").contains(uuid);
            assertThat(gw().put(nexus + "/share/nvmf?allowed-hosts=" + host).json().asString()).isEqualTo(deviceUri);
            assertThat(nexusSpec(uuid).path("share").asString()).isEqualTo("nvmf");
            assertThat(nexusSpec(uuid).path("allowed_hosts").toString()).contains(host);
            JsonNode sharedNexus = gw().get(nexus).json();
            assertThat(sharedNexus.path("protocol").asString()).isEqualTo("nvmf");
            assertThat(sharedNexus.path("deviceUri").asString()).isEqualTo(deviceUri);
            assertThat(gw().delete(nexus + "/share").status()).isEqualTo(204);
            assertThat(gw().delete(nexus + "/share").status()).isEqualTo(204);
            assertThat(gw().get(nexus).json().path("protocol").asString()).isEqualTo("none");

            assertThat(gw().delete(nexus).status()).isEqualTo(204);
            gw().get("/v0/nexuses/" + uuid).assertError(404, "NotFound", "nexus " + uuid);
            assertThat(gw().delete(nexus).status()).isEqualTo(204);
            assertThat(gw().delete("/v0/nexuses/" + uuid).status()).isEqualTo(204);
            Reply specs = gw().get("/v0/specs");
            assertThat(specs.body()).doesNotContain(uuid);
        } finally {
            gw().delete(nexus);
            gw().delete("/v0/nodes/node-1/pools/pool-node-1/replicas/" + r1);
            gw().delete("/v0/nodes/node-1/pools/pool-node-1/replicas/" + r2);
        }
    }

    @Test
    void badInputIsRefusedNamingTheFieldAndLeavesNothingBehind() {
        String uuid = UUID.randomUUID().toString();
        String nexus = "/v0/nodes/node-1/nexuses/" + uuid;
        String some = "bdev:///" + UUID.randomUUID();
        gw().put(nexus).assertError(400, "InvalidArgument", "body");
        gw().put(nexus, Map.of("children", List.of(some))).assertError(400, "InvalidArgument", "size");
        gw().put(nexus, body(0, List.of(some))).assertError(400, "InvalidArgument", "size");
        gw().put(nexus, Map.of("size", MIB)).assertError(400, "InvalidArgument", "children");
        gw().put(nexus, body(MIB, List.of())).assertError(400, "InvalidArgument", "children");
        gw().put(nexus, body(MIB, List.of(some, some))).assertError(400, "InvalidArgument", "children");
        gw().put(nexus, body(MIB, List.of(some, "/dev/sda"))).assertError(400, "InvalidArgument", "children[1]");
        gw().put("/v0/nodes/node-1/nexuses/nope", body(MIB, List.of(some))).assertError(400, "InvalidArgument", "nexus_id");
        gw().put("/v0/nodes/Node/nexuses/" + uuid, body(MIB, List.of(some))).assertError(400, "InvalidArgument", "node_id");
        gw().put("/v0/nodes/node-9/nexuses/" + uuid, body(MIB, List.of(some))).assertError(404, "NotFound", "node-9");
        // A child the node does not have: the io-engine refuses, and the half-made nexus is undone.
        Reply missingChild = gw().put(nexus, body(MIB, List.of(some)));
        assertThat(missingChild.status()).as("%s", missingChild).isBetween(400, 499);
        gw().get("/v0/nexuses/" + uuid).assertError(404, "NotFound", "nexus " + uuid);
        assertThat(gw().get("/v0/specs").body()).doesNotContain(uuid);

        // The other paths on a nexus that does not exist, and their own bad input.
        gw().get(nexus).assertError(404, "NotFound", "nexus " + uuid + " on node node-1");
        gw().get(nexus + "/children").assertError(404, "NotFound", "nexus " + uuid);
        gw().put(nexus + "/children/" + encoded(some)).assertError(404, "NotFound", "nexus " + uuid);
        gw().delete(nexus + "/children/" + encoded(some)).assertError(404, "NotFound", "nexus " + uuid);
        gw().put(nexus + "/share/nvmf?allowed-hosts=nqn.2019-05.io.javastor:node-name:app-1").assertError(404, "NotFound", "nexus " + uuid);
        gw().delete(nexus + "/share").assertError(404, "NotFound", "nexus " + uuid);
        gw().put(nexus + "/share/iscsi").assertError(400, "InvalidArgument", "protocol");
        gw().put(nexus + "/children/not-a-uri").assertError(400, "InvalidArgument", "uri");
        gw().delete(nexus + "/children/" + encoded("nvmf://nohost")).assertError(400, "InvalidArgument", "uri");
        gw().delete("/v0/nodes/node-9/nexuses/" + uuid).assertError(404, "NotFound", "node-9");
        gw().delete("/v0/nexuses/nope").assertError(400, "InvalidArgument", "nexus_id");
        gw().get("/v0/nodes/node-9/nexuses").assertError(404, "NotFound", "node-9");
    }

    @Test
    void aVolumesUuidCannotBeTakenByANexusOutsideVolumes() {
        String volume = UUID.randomUUID().toString();
        Reply v = gw().put("/v0/volumes/" + volume, VolumeApiTest.body(4 * MIB, 1));
        assertThat(v.status()).as("%s", v).isEqualTo(200);
        try {
            gw().put("/v0/nodes/node-1/nexuses/" + volume, body(4 * MIB, List.of("bdev:///" + UUID.randomUUID()))).assertError(409,
                    "InUse", "volume " + volume);
            // Unpublished: nothing to destroy.
            assertThat(gw().delete("/v0/nexuses/" + volume).status()).isEqualTo(204);
        } finally {
            assertThat(gw().delete("/v0/volumes/" + volume).status()).isEqualTo(204);
        }
    }

    @Test
    void aNexusOutsideVolumesKeepsItsUuidFromVolumes() {
        String r = UUID.randomUUID().toString();
        String child = replica(r);
        String uuid = UUID.randomUUID().toString();
        String nexus = "/v0/nodes/node-1/nexuses/" + uuid;
        try {
            assertThat(gw().put(nexus, body(4 * MIB, List.of(child))).status()).isEqualTo(200);
            gw().put("/v0/volumes/" + uuid, VolumeApiTest.body(4 * MIB, 1)).assertError(409, "InUse", "nexus outside volumes");
            gw().get("/v0/volumes/" + uuid).assertError(404, "NotFound", uuid);
        } finally {
            gw().delete(nexus);
            gw().delete("/v0/nodes/node-1/pools/pool-node-1/replicas/" + r);
        }
    }

    @Test
    void aNexusChildIsReadAddedAndRemovedWithoutNamingItsNode() {
        String r1 = UUID.randomUUID().toString();
        String r2 = UUID.randomUUID().toString();
        String uri1 = replica(r1);
        String uri2 = replica(r2);
        String uuid = UUID.randomUUID().toString();
        String children = "/v0/nexuses/" + uuid + "/children";
        try {
            gw().get(children).assertError(404, "NotFound", "nexus " + uuid);
            gw().put(children + "/" + encoded(uri2)).assertError(404, "NotFound", "nexus " + uuid);
            assertThat(gw().put("/v0/nodes/node-1/nexuses/" + uuid, body(4 * MIB, List.of(uri1))).status()).isEqualTo(200);

            assertThat(gw().get(children).json().get(0).path("uri").asString()).isEqualTo(uri1);
            assertThat(gw().get(children + "/" + encoded(uri1)).json().path("state").asString()).isEqualTo("Online");
            gw().get(children + "/" + encoded(uri2)).assertError(404, "NotFound", "child " + uri2);

            Reply added = gw().put(children + "/" + encoded(uri2));
            assertThat(added.status()).as("%s", added).isEqualTo(200);
            assertThat(added.json().path("uri").asString()).isEqualTo(uri2);
            Awaitility.await("the added child rebuilt").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                    .until(() -> gw().get(children + "/" + encoded(uri2)).json().path("state").asString().equals("Online"));
            Reply again = gw().put(children + "/" + encoded(uri2));
            assertThat(again.status()).as("adding a child already there: %s", again).isEqualTo(200);
            assertThat(gw().get(children).json().size()).isEqualTo(2);
            assertThat(nexusSpec(uuid).path("children").size()).isEqualTo(2);

            assertThat(gw().delete(children + "/" + encoded(uri2)).status()).isEqualTo(204);
            assertThat(gw().delete(children + "/" + encoded(uri2)).status()).as("removing one not there").isEqualTo(204);
            assertThat(gw().get(children).json().size()).isEqualTo(1);
            gw().delete(children + "/" + encoded(uri1)).assertError(412, "FailedPrecondition", "only child");
            gw().get("/v0/nexuses/nope/children").assertError(400, "InvalidArgument", "nexus_id");
            gw().put("/v0/nexuses/nope/children/" + encoded(uri2)).assertError(400, "InvalidArgument", "nexus_id");
        } finally {
            gw().delete("/v0/nexuses/" + uuid);
            gw().delete("/v0/nodes/node-1/pools/pool-node-1/replicas/" + r1);
            gw().delete("/v0/nodes/node-1/pools/pool-node-1/replicas/" + r2);
        }
    }

    @Test
    void aVolumesTargetChildrenAreReadButChangedOnlyThroughTheVolume() {
        String volume = UUID.randomUUID().toString();
        assertThat(gw().put("/v0/volumes/" + volume, VolumeApiTest.body(4 * MIB, 1)).status()).isEqualTo(200);
        try {
            Reply published = gw().put("/v0/volumes/" + volume + "/target", Map.of("protocol", "nvmf", "publish_context", Map.of(),
                    "node", "node-1", "frontend_node", "app-1"));
            assertThat(published.status()).as("%s", published).isEqualTo(200);
            String child = gw().get("/v0/nexuses/" + volume + "/children").json().get(0).path("uri").asString();
            assertThat(gw().get("/v0/nexuses/" + volume + "/children/" + encoded(child)).json().path("uri").asString()).isEqualTo(child);
            gw().delete("/v0/nexuses/" + volume + "/children/" + encoded(child)).assertError(409, "InUse", "volume " + volume);
            gw().put("/v0/nexuses/" + volume + "/children/" + encoded("bdev:///" + UUID.randomUUID())).assertError(409, "InUse",
                    "volume " + volume);

            // The target's spec, as Mayastor's NexusSpec: managed, owned by the volume, its size, shared over nvmf.
            JsonNode spec = nexusSpec(volume);
            assertThat(spec).isNotNull();
            assertThat(spec.path("managed").asBoolean()).isTrue();
            assertThat(spec.path("owner").asString()).isEqualTo(volume);
            assertThat(spec.path("node").asString()).isEqualTo("node-1");
            assertThat(spec.path("size").asLong()).isEqualTo(4 * MIB);
            assertThat(spec.path("share").asString()).isEqualTo("nvmf");
            assertThat(spec.path("status").asString()).isEqualTo("Created");
            assertThat(spec.path("children").toString()).contains(child);
        } finally {
            assertThat(gw().delete("/v0/volumes/" + volume).status()).isEqualTo(204);
        }
    }
}

package io.javastor.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.javastor.gateway.testsupport.RunningGateway;
import io.javastor.gateway.testsupport.RunningGateway.Reply;
import io.javastor.gateway.testsupport.StorageCluster;
import tools.jackson.databind.JsonNode;

/** /v0/app-nodes against a real core agent and etcd: Mayastor's shapes, idempotent registration, 4xx by field. */
class AppNodeApiTest {

    @RegisterExtension
    static final StorageCluster cluster = new StorageCluster();

    private static RunningGateway gw() {
        return cluster.gateway();
    }

    @Test
    void anAppNodeIsRegisteredReadReRegisteredAndDeregistered() {
        Reply put = gw().put("/v0/app-nodes/app-rest-1", Map.of("endpoint", "10.1.0.5:50055", "labels", Map.of("zone", "a")));
        assertThat(put.status()).as("%s", put).isEqualTo(204);
        assertThat(gw().put("/v0/app-nodes/app-rest-1", Map.of("endpoint", "10.1.0.5:50055", "labels", Map.of("zone", "a"))).status())
                .as("the same registration again").isEqualTo(204);

        JsonNode node = gw().get("/v0/app-nodes/app-rest-1").json();
        assertThat(node.path("id").asString()).isEqualTo("app-rest-1");
        assertThat(node.path("spec").path("id").asString()).isEqualTo("app-rest-1");
        assertThat(node.path("spec").path("endpoint").asString()).isEqualTo("10.1.0.5:50055");
        assertThat(node.path("spec").path("labels").path("zone").asString()).isEqualTo("a");
        assertThat(node.path("state").path("endpoint").asString()).isEqualTo("10.1.0.5:50055");
        assertThat(node.path("state").path("status").asString()).isEqualTo("Online");

        // A plugin restarted elsewhere registers again: its new endpoint and labels replace the old.
        assertThat(gw().put("/v0/app-nodes/app-rest-1", Map.of("endpoint", "unix:///run/csi/csi.sock")).status()).isEqualTo(204);
        JsonNode moved = gw().get("/v0/app-nodes/app-rest-1").json();
        assertThat(moved.path("spec").path("endpoint").asString()).isEqualTo("unix:///run/csi/csi.sock");
        assertThat(moved.path("spec").path("labels").size()).isZero();

        assertThat(gw().delete("/v0/app-nodes/app-rest-1").status()).isEqualTo(204);
        gw().get("/v0/app-nodes/app-rest-1").assertError(404, "NotFound", "app-rest-1");
        assertThat(gw().delete("/v0/app-nodes/app-rest-1").status()).as("deregistering again").isEqualTo(204);
    }

    @Test
    void appNodesAreListedInPagesInIdOrder() {
        for (String id : List.of("app-list-c", "app-list-a", "app-list-b")) {
            assertThat(gw().put("/v0/app-nodes/" + id, Map.of("endpoint", "127.0.0.1:1")).status()).isEqualTo(204);
        }
        JsonNode all = gw().get("/v0/app-nodes").json();
        assertThat(all.has("next_token")).isFalse();
        List<String> ids = new ArrayList<>();
        all.path("entries").forEach(e -> ids.add(e.path("id").asString()));
        assertThat(ids.stream().filter(i -> i.startsWith("app-list-")).toList()).containsExactly("app-list-a", "app-list-b", "app-list-c");
        assertThat(ids).isSorted();

        List<String> paged = new ArrayList<>();
        String next = "0";
        while (next != null) {
            JsonNode page = gw().get("/v0/app-nodes?max_entries=2&starting_token=" + next).json();
            assertThat(page.path("entries").size()).isBetween(1, 2);
            page.path("entries").forEach(e -> paged.add(e.path("id").asString()));
            next = page.has("next_token") ? page.path("next_token").asString() : null;
        }
        assertThat(paged).isEqualTo(ids);
        for (String id : List.of("app-list-a", "app-list-b", "app-list-c")) {
            assertThat(gw().delete("/v0/app-nodes/" + id).status()).isEqualTo(204);
        }
    }

    @Test
    void badInputIsRefusedNamingTheFieldAndRegistersNothing() {
        gw().put("/v0/app-nodes/Bad_Node", Map.of("endpoint", "127.0.0.1:1")).assertError(400, "InvalidArgument", "app_node_id");
        gw().put("/v0/app-nodes/app-bad").assertError(400, "InvalidArgument", "body");
        gw().put("/v0/app-nodes/app-bad", Map.of("labels", Map.of())).assertError(400, "InvalidArgument", "endpoint");
        gw().put("/v0/app-nodes/app-bad", Map.of("endpoint", "no-port")).assertError(400, "InvalidArgument", "endpoint");
        gw().put("/v0/app-nodes/app-bad", Map.of("endpoint", "10.0.0.1:99999")).assertError(400, "InvalidArgument", "endpoint");
        gw().put("/v0/app-nodes/app-bad", Map.of("endpoint", "127.0.0.1:1", "labels", Map.of("-bad-", "v")))
                .assertError(400, "InvalidArgument", "labels");
        gw().get("/v0/app-nodes/app-bad").assertError(404, "NotFound", "app-bad");
        gw().get("/v0/app-nodes/Bad_Node").assertError(400, "InvalidArgument", "app_node_id");
        gw().delete("/v0/app-nodes/Bad_Node").assertError(400, "InvalidArgument", "app_node_id");
        gw().get("/v0/app-nodes?max_entries=-1").assertError(400, "InvalidArgument", "max_entries");
        gw().get("/v0/app-nodes?starting_token=-1").assertError(400, "InvalidArgument", "starting_token");
    }
}

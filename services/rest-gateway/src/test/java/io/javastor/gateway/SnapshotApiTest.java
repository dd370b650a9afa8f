package io.javastor.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.javastor.gateway.testsupport.RunningGateway;
import io.javastor.gateway.testsupport.RunningGateway.Reply;
import io.javastor.gateway.testsupport.StorageCluster;
import tools.jackson.databind.JsonNode;

/** Mayastor's v0 snapshot paths against a real core agent, etcd and three io-engines: shapes, idempotence, paging, every refusal. */
class SnapshotApiTest {

    @RegisterExtension
    static final StorageCluster cluster = new StorageCluster();

    private static final long MIB = 1 << 20;

    private static RunningGateway gw() {
        return cluster.gateway();
    }

    private static Map<String, Object> body(long size, int replicas, boolean thin) {
        Map<String, Object> b = new HashMap<>(VolumeApiTest.body(size, replicas));
        b.put("thin", thin);
        return b;
    }

    private static String volume(int replicas, Integer maxSnapshots) {
        String uuid = UUID.randomUUID().toString();
        Map<String, Object> b = body(8 * MIB, replicas, false);
        if (maxSnapshots != null) {
            b.put("max_snapshots", maxSnapshots);
        }
        Reply r = gw().put("/v0/volumes/" + uuid, b);
        assertThat(r.status()).as("%s", r).isEqualTo(200);
        return uuid;
    }

    @Test
    void aSnapshotHasMayastorsShapeAndIsIdempotent() {
        String vol = volume(2, 2);
        String snap = UUID.randomUUID().toString();
        Reply created = gw().put("/v0/volumes/" + vol + "/snapshots/" + snap);
        assertThat(created.status()).as("%s", created).isEqualTo(200);
        JsonNode s = created.json();
        JsonNode meta = s.path("definition").path("metadata");
        assertThat(meta.path("status").asString()).isEqualTo("Created");
        assertThat(meta.path("size").asLong()).isEqualTo(8 * MIB);
        assertThat(meta.path("spec_size").asLong()).isEqualTo(8 * MIB);
        assertThat(meta.path("txn_id").asString()).isEqualTo("1");
        assertThat(meta.path("transactions").path("1").size()).isEqualTo(2);
        assertThat(meta.path("num_snapshot_replicas").asInt()).isEqualTo(2);
        assertThat(meta.path("num_restores").asInt()).isZero();
        assertThat(meta.path("timestamp").asString()).isNotEmpty();
        assertThat(s.path("definition").path("spec").path("uuid").asString()).isEqualTo(snap);
        assertThat(s.path("definition").path("spec").path("source_volume").asString()).isEqualTo(vol);
        JsonNode state = s.path("state");
        assertThat(state.path("ready_as_source").asBoolean()).isTrue();
        assertThat(state.path("source_volume").asString()).isEqualTo(vol);
        assertThat(state.path("allocated_size").asLong()).as("a thick volume's clusters").isEqualTo(8 * MIB);
        assertThat(state.path("replica_snapshots").size()).isEqualTo(2);
        state.path("replica_snapshots").forEach(r -> {
            JsonNode online = r.path("online");
            assertThat(StorageCluster.NODES.stream().map(StorageCluster::poolOf)).contains(online.path("pool_id").asString());
            assertThat(UUID.fromString(online.path("pool_uuid").asString())).isNotNull();
            assertThat(online.path("size").asLong()).isEqualTo(8 * MIB);
            assertThat(r.has("offline")).isFalse();
        });

        Reply again = gw().put("/v0/volumes/" + vol + "/snapshots/" + snap);
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.json().path("definition")).isEqualTo(s.path("definition"));
        assertThat(gw().get("/v0/volumes/" + vol + "/snapshots/" + snap).json().path("definition")).isEqualTo(s.path("definition"));
        assertThat(gw().get("/v0/volumes/snapshots/" + snap).json().path("definition")).isEqualTo(s.path("definition"));
        assertThat(gw().get("/v0/volumes/" + vol).json().path("spec").path("num_snapshots").asInt()).isEqualTo(1);
        assertThat(gw().get("/v0/volumes/" + vol).json().path("spec").path("max_snapshots").asInt()).isEqualTo(2);

        // Refusals, each naming what is wrong; none changes anything.
        String other = volume(1, null);
        gw().put("/v0/volumes/" + other + "/snapshots/" + snap).assertError(409, "AlreadyExists", vol);
        gw().get("/v0/volumes/" + other + "/snapshots/" + snap).assertError(404, "NotFound", snap);
        gw().put("/v0/volumes/not-a-uuid/snapshots/" + snap).assertError(400, "InvalidArgument", "volume_id");
        gw().put("/v0/volumes/" + vol + "/snapshots/nope").assertError(400, "InvalidArgument", "snapshot_id");
        gw().put("/v0/volumes/" + UUID.randomUUID() + "/snapshots/" + UUID.randomUUID()).assertError(404, "NotFound", "volume");
        gw().get("/v0/volumes/snapshots/" + UUID.randomUUID()).assertError(404, "NotFound", "snapshot");
        gw().get("/v0/volumes/" + vol + "/snapshots?max_entries=-1").assertError(400, "InvalidArgument", "max_entries");
        assertThat(gw().put("/v0/volumes/" + vol + "/snapshots/" + UUID.randomUUID()).status()).isEqualTo(200);
        gw().put("/v0/volumes/" + vol + "/snapshots/" + UUID.randomUUID()).assertError(412, "FailedPrecondition", "max_snapshots");
        assertThat(gw().get("/v0/volumes/" + vol).json().path("spec").path("num_snapshots").asInt()).isEqualTo(2);

        // Deletes: by volume and by id; a snapshot that is gone succeeds; one of another volume is left alone.
        assertThat(gw().delete("/v0/volumes/" + other + "/snapshots/" + snap).status()).isEqualTo(204);
        assertThat(gw().get("/v0/volumes/snapshots/" + snap).status()).as("another volume's path deletes nothing").isEqualTo(200);
        assertThat(gw().delete("/v0/volumes/" + vol + "/snapshots/" + snap).status()).isEqualTo(204);
        assertThat(gw().delete("/v0/volumes/" + vol + "/snapshots/" + snap).status()).isEqualTo(204);
        assertThat(gw().delete("/v0/volumes/snapshots/" + snap).status()).isEqualTo(204);
        gw().get("/v0/volumes/snapshots/" + snap).assertError(404, "NotFound", snap);
        for (JsonNode e : gw().get("/v0/volumes/" + vol + "/snapshots").json().path("entries")) {
            assertThat(gw().delete("/v0/volumes/snapshots/" + e.path("definition").path("spec").path("uuid").asString()).status()).isEqualTo(204);
        }
    }

    @Test
    void snapshotsPageAndAVolumeCreatedFromOneIsItsClone() {
        String vol = volume(2, null);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String id = UUID.randomUUID().toString();
            assertThat(gw().put("/v0/volumes/" + vol + "/snapshots/" + id).status()).isEqualTo(200);
            ids.add(id);
        }
        JsonNode first = gw().get("/v0/volumes/" + vol + "/snapshots?max_entries=2").json();
        assertThat(first.path("entries").size()).isEqualTo(2);
        long next = first.path("next_token").asLong();
        JsonNode second = gw().get("/v0/volumes/" + vol + "/snapshots?max_entries=2&starting_token=" + next).json();
        assertThat(second.path("entries").size()).isEqualTo(1);
        assertThat(second.has("next_token")).isFalse();
        List<String> paged = new ArrayList<>();
        first.path("entries").forEach(e -> paged.add(e.path("definition").path("spec").path("uuid").asString()));
        second.path("entries").forEach(e -> paged.add(e.path("definition").path("spec").path("uuid").asString()));
        assertThat(paged).as("oldest first").containsExactlyElementsOf(ids);
        assertThat(gw().get("/v0/volumes/snapshots?volume_id=" + vol + "&max_entries=0").json().path("entries").size()).isEqualTo(3);
        assertThat(gw().get("/v0/volumes/snapshots?snapshot_id=" + ids.get(1)).json().path("entries").size()).isEqualTo(1);
        assertThat(gw().get("/v0/volumes/snapshots?snapshot_id=" + UUID.randomUUID()).json().path("entries").size()).isZero();

        // A volume from the first snapshot: thin clones, one per replica snapshot; its content source names the snapshot.
        String restored = UUID.randomUUID().toString();
        String path = "/v0/snapshots/" + ids.get(0) + "/volumes/" + restored;
        gw().put(path, body(8 * MIB, 2, false)).assertError(422, "Unsupported", "thin");
        gw().put(path, body(8 * MIB, 3, true)).assertError(400, "InvalidArgument", "replicas");
        gw().put(path, body(4 * MIB, 2, true)).assertError(400, "InvalidArgument", "size");
        gw().put("/v0/snapshots/" + UUID.randomUUID() + "/volumes/" + restored, body(8 * MIB, 2, true)).assertError(404, "NotFound", "snapshot");
        gw().get("/v0/volumes/" + restored).assertError(404, "NotFound", restored);
        Reply r = gw().put(path, body(8 * MIB, 2, true));
        assertThat(r.status()).as("%s", r).isEqualTo(200);
        JsonNode spec = r.json().path("spec");
        assertThat(spec.path("content_source").path("snapshot").path("snapshot").asString()).isEqualTo(ids.get(0));
        assertThat(spec.path("content_source").path("snapshot").path("volume").asString()).isEqualTo(vol);
        assertThat(spec.path("thin").asBoolean()).isTrue();
        assertThat(r.json().path("state").path("replica_topology").size()).isEqualTo(2);
        assertThat(gw().put(path, body(8 * MIB, 2, true)).json().path("spec")).as("idempotent").isEqualTo(spec);
        assertThat(gw().get("/v0/volumes/snapshots/" + ids.get(0)).json().path("definition").path("metadata").path("num_restores").asInt())
                .isEqualTo(1);

        // The snapshot can go while the volume made from it stays.
        assertThat(gw().delete("/v0/volumes/snapshots/" + ids.get(0)).status()).isEqualTo(204);
        assertThat(gw().get("/v0/volumes/" + restored).status()).isEqualTo(200);
        assertThat(gw().delete("/v0/volumes/" + restored).status()).isEqualTo(204);
        for (String id : ids.subList(1, 3)) {
            assertThat(gw().delete("/v0/volumes/snapshots/" + id).status()).isEqualTo(204);
        }
        assertThat(gw().delete("/v0/volumes/" + vol).status()).isEqualTo(204);
    }
}

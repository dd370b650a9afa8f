package io.javastor.e2e;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import tools.jackson.databind.JsonNode;

/** Readings of the REST API's JSON (Mayastor's v0 shapes) that the end-to-end tests judge a cluster by. */
final class VolumeJson {
    private VolumeJson() {
    }

    /** id -> state.status of a REST list (nodes, pools). */
    static Map<String, String> statusById(JsonNode list) {
        Map<String, String> out = new TreeMap<>();
        for (JsonNode n : list.values()) {
            out.put(n.path("id").asString(), n.path("state").path("status").asString());
        }
        return out;
    }

    /** The nodes of a volume's replicas, whatever their state. */
    static List<String> replicaNodes(JsonNode volume) {
        List<String> out = new ArrayList<>();
        for (JsonNode r : volume.path("state").path("replica_topology").values()) {
            out.add(r.path("node").asString());
        }
        return out;
    }

    /** The nodes of a volume's replicas that are Online and Online children of its target. */
    static List<String> healthyReplicaNodes(JsonNode volume) {
        List<String> out = new ArrayList<>();
        for (JsonNode r : volume.path("state").path("replica_topology").values()) {
            if ("Online".equals(r.path("state").asString()) && "Online".equals(r.path("child-status").asString())) {
                out.add(r.path("node").asString());
            }
        }
        return out;
    }

    /**
     * Online, its nexus Online with three Online children, three healthy replicas. (The gateway lists one child per
     * replica spec, so the retired replica of a dead node stays listed as an "Unknown" child with an empty URI until
     * that node returns and it is destroyed: only the Online ones are counted.)
     */
    static boolean whole(JsonNode volume) {
        JsonNode target = volume.path("state").path("target");
        long online = target.path("children").values().stream().filter(c -> "Online".equals(c.path("state").asString())).count();
        return "Online".equals(volume.path("state").path("status").asString()) && "Online".equals(target.path("state").asString())
                && online == 3 && healthyReplicaNodes(volume).size() == 3;
    }
}

package io.javastor.core.placement;

import java.util.Map;

/**
 * One pool that might take a replica, with what placement needs to know of it and its node.
 *
 * @param replicasOnNode     replicas (of any volume) the node holds now
 * @param groupMembersOnNode replicas of volumes in the request's affinity group on the node
 */
public record Candidate(String nodeId, boolean nodeOnline, boolean nodeCordoned, Map<String, String> nodeLabels,
                        String poolId, boolean poolOnline, Map<String, String> poolLabels,
                        long capacity, long used, long committed, int replicasOnNode, int groupMembersOnNode) {
    public Candidate {
        nodeLabels = Map.copyOf(nodeLabels);
        poolLabels = Map.copyOf(poolLabels);
    }

    public long free() {
        return Math.max(0, capacity - used);
    }
}

package io.javastor.core.placement;

import java.util.Map;
import java.util.Set;

/**
 * What replicas are needed: {@code count} more of {@code size} bytes, on nodes other than
 * {@code excludedNodes} (those already holding one of this volume), matching the topology labels.
 */
public record PlacementRequest(String volumeId, long size, boolean thin, int count, Map<String, String> nodeLabels,
                               Map<String, String> poolLabels, Set<String> excludedNodes) {
    public PlacementRequest {
        nodeLabels = Map.copyOf(nodeLabels);
        poolLabels = Map.copyOf(poolLabels);
        excludedNodes = Set.copyOf(excludedNodes);
    }
}

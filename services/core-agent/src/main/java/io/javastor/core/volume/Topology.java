package io.javastor.core.volume;

import java.util.Map;

/** Labels a replica's node and pool must both carry. */
public record Topology(Map<String, String> nodeLabels, Map<String, String> poolLabels) {
    public static final Topology ANY = new Topology(Map.of(), Map.of());

    public Topology {
        nodeLabels = Map.copyOf(nodeLabels);
        poolLabels = Map.copyOf(poolLabels);
    }
}

package io.javastor.gateway.volume;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import io.swagger.v3.oas.annotations.media.Schema;

/** Where a volume's replicas may go (Mayastor's topology shape). */
@JsonInclude(JsonInclude.Include.NON_NULL)
@Schema(name = "Topology")
public record VolumeTopology(@JsonProperty("node_topology") NodeTopology nodeTopology,
        @JsonProperty("pool_topology") PoolTopology poolTopology) {

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(name = "NodeTopology", description = "one of explicit or labelled")
    public record NodeTopology(ExplicitNodeTopology explicit, LabelledTopology labelled) {
    }

    @Schema(name = "ExplicitNodeTopology", requiredProperties = {"allowed_nodes", "preferred_nodes"})
    public record ExplicitNodeTopology(@JsonProperty("allowed_nodes") List<String> allowedNodes,
            @JsonProperty("preferred_nodes") List<String> preferredNodes) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(name = "PoolTopology")
    public record PoolTopology(LabelledTopology labelled) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(name = "LabelledTopology")
    public record LabelledTopology(@Schema(description = "a node or pool must carry every one of these labels") Map<String, String> inclusion,
            Map<String, String> exclusion, @JsonProperty("affinity_key") List<String> affinityKey) {
    }

    /** The core agent's topology (labels a node and a pool must carry) in the REST shape; null when there is none. */
    static VolumeTopology from(io.javastor.api.core.v1.Topology t) {
        if (t.getNodeLabelsCount() == 0 && t.getPoolLabelsCount() == 0) {
            return null;
        }
        NodeTopology node = t.getNodeLabelsCount() == 0 ? null
                : new NodeTopology(null, new LabelledTopology(t.getNodeLabelsMap(), Map.of(), List.of()));
        PoolTopology pool = t.getPoolLabelsCount() == 0 ? null
                : new PoolTopology(new LabelledTopology(t.getPoolLabelsMap(), Map.of(), List.of()));
        return new VolumeTopology(node, pool);
    }
}

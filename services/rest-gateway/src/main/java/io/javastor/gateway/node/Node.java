package io.javastor.gateway.node;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import io.swagger.v3.oas.annotations.media.Schema;

/** A storage node: its spec (what the agent keeps in etcd) and its observed state. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@Schema(requiredProperties = {"id"})
public record Node(String id, NodeSpec spec, NodeState state) {

    /** As Mayastor's current v0 NodeSpec: cordons and drains are told by {@code cordondrainstate} alone. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(name = "NodeSpec", requiredProperties = {"id", "grpcEndpoint"})
    public record NodeSpec(String id, @JsonProperty("grpcEndpoint") String grpcEndpoint, Map<String, String> labels,
            @JsonProperty("node_nqn") String nodeNqn,
            @Schema(description = "cordon and drain labels and the drain's progress; absent when the node has neither (it takes new "
                    + "replicas and nexuses)")
            CordonDrainState cordondrainstate,
            @Schema(description = "version of the node's io-engine") String version) {
    }

    /**
     * Exactly one member is set: cordoned (cordon labels only), draining (drain labels, and the node
     * still holds nexuses, which the core agent moves to other nodes) or drained (drain labels, no nexus left).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(name = "CordonDrainState")
    public record CordonDrainState(CordonLabels cordonedstate, DrainLabels drainingstate, DrainLabels drainedstate) {
    }

    @Schema(name = "CordonedState", requiredProperties = {"cordonlabels"})
    public record CordonLabels(List<String> cordonlabels) {
    }

    @Schema(name = "DrainState", requiredProperties = {"cordonlabels", "drainlabels"})
    public record DrainLabels(List<String> cordonlabels, List<String> drainlabels) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(name = "NodeState", requiredProperties = {"id", "grpcEndpoint", "status"})
    public record NodeState(String id, @JsonProperty("grpcEndpoint") String grpcEndpoint,
            @Schema(allowableValues = {"Online", "Offline", "Unknown"}) String status,
            @JsonProperty("node_nqn") String nodeNqn, String version) {
    }

    static Node from(io.javastor.api.core.v1.Node n) {
        String nqn = n.getNodeNqn().isEmpty() ? null : n.getNodeNqn();
        String status = switch (n.getStatus()) {
            case NODE_STATUS_ONLINE -> "Online";
            case NODE_STATUS_OFFLINE -> "Offline";
            default -> "Unknown";
        };
        CordonDrainState cordonDrain = null;
        DrainLabels drain = new DrainLabels(n.getCordonLabelsList(), n.getDrainLabelsList());
        if (n.getDrainLabelsCount() > 0) {
            cordonDrain = n.getDrainState() == io.javastor.api.core.v1.DrainState.DRAIN_STATE_DRAINED
                    ? new CordonDrainState(null, null, drain) : new CordonDrainState(null, drain, null);
        } else if (n.getCordonLabelsCount() > 0) {
            cordonDrain = new CordonDrainState(new CordonLabels(n.getCordonLabelsList()), null, null);
        }
        String version = n.getVersion().isEmpty() ? null : n.getVersion();
        return new Node(n.getId(), new NodeSpec(n.getId(), n.getGrpcEndpoint(), n.getLabelsMap(), nqn, cordonDrain, version),
                new NodeState(n.getId(), n.getGrpcEndpoint(), status, nqn, version));
    }
}

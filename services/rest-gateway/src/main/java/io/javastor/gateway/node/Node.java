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

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(name = "NodeSpec", requiredProperties = {"id", "grpcEndpoint"})
    public record NodeSpec(String id, @JsonProperty("grpcEndpoint") String grpcEndpoint, Map<String, String> labels,
            @JsonProperty("node_nqn") String nodeNqn,
            @Schema(description = "cordon labels; a node with any takes no new replicas or nexuses")
            @JsonProperty("cordon_labels") List<String> cordonLabels,
            @Schema(description = "drain labels; they cordon the node too")
            @JsonProperty("drain_labels") List<String> drainLabels,
            @Schema(description = "Mayastor's cordon/drain state; absent when the node has neither cordon nor drain labels")
            CordonDrainState cordondrainstate) {
    }

    /**
     * Exactly one member is set: cordoned (cordon labels only), draining (drain labels, and the node
     * still holds nexuses) or drained (drain labels, no nexus left). Nexuses are not moved off a
     * draining node: it stays draining until its volumes are unpublished (or moved by republishing).
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
            @JsonProperty("node_nqn") String nodeNqn) {
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
        return new Node(n.getId(), new NodeSpec(n.getId(), n.getGrpcEndpoint(), n.getLabelsMap(), nqn, n.getCordonLabelsList(),
                n.getDrainLabelsList(), cordonDrain),
                new NodeState(n.getId(), n.getGrpcEndpoint(), status, nqn));
    }
}

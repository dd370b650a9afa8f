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
            @JsonProperty("cordon_labels") List<String> cordonLabels) {
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
        return new Node(n.getId(), new NodeSpec(n.getId(), n.getGrpcEndpoint(), n.getLabelsMap(), nqn, n.getCordonLabelsList()),
                new NodeState(n.getId(), n.getGrpcEndpoint(), status, nqn));
    }
}

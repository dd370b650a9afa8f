package io.javastor.gateway.appnode;

import java.util.Map;

import io.swagger.v3.oas.annotations.media.Schema;

/** A node applications run on, as its CSI node plugin registered it (Mayastor's AppNode). */
@Schema(name = "AppNode", requiredProperties = {"id", "spec"})
public record AppNode(String id, AppNodeSpec spec, AppNodeState state) {

    @Schema(name = "AppNodeSpec", requiredProperties = {"id", "endpoint"})
    public record AppNodeSpec(String id,
            @Schema(description = "where the node plugin serves: host:port, or unix:///path", example = "10.1.0.5:50055") String endpoint,
            Map<String, String> labels) {
    }

    /** Online while registered, as Mayastor's (the registration is all the agent knows of an app node). */
    @Schema(name = "AppNodeState", requiredProperties = {"id", "endpoint", "status"})
    public record AppNodeState(String id, String endpoint, @Schema(allowableValues = {"Online", "Offline"}) String status) {
    }

    static AppNode from(io.javastor.api.core.v1.AppNode a) {
        return new AppNode(a.getId(), new AppNodeSpec(a.getId(), a.getEndpoint(), a.getLabelsMap()),
                new AppNodeState(a.getId(), a.getEndpoint(), "Online"));
    }
}

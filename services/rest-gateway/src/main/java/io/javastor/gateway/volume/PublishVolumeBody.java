package io.javastor.gateway.volume;

import java.util.Map;

import com.fasterxml.jackson.annotation.JsonProperty;

import io.swagger.v3.oas.annotations.media.Schema;

@Schema(requiredProperties = {"protocol", "publish_context"})
public record PublishVolumeBody(
        @Schema(allowableValues = {"nvmf"}) String protocol,
        @Schema(description = "opaque to the control plane, e.g. io_timeout") @JsonProperty("publish_context") Map<String, String> publishContext,
        @Schema(description = "the node to host the target (nexus); default: a node holding a replica") String node,
        @Schema(description = "the node that will connect (required unless republish): only its host NQN is allowed in, with its own DH-HMAC-CHAP secret") @JsonProperty("frontend_node") String frontendNode,
        @JsonProperty("reuse_existing") Boolean reuseExisting,
        @Schema(description = "move a published target to `node` (or to another node): a new target, fenced off the old one") Boolean republish) {
}

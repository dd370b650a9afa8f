package io.javastor.gateway.volume;

import com.fasterxml.jackson.annotation.JsonProperty;

import io.swagger.v3.oas.annotations.media.Schema;

@Schema(name = "VolumePolicy", requiredProperties = {"self_heal"})
public record VolumePolicy(@Schema(description = "replace faulted replicas; the core agent always does, so it must be true")
        @JsonProperty("self_heal") Boolean selfHeal) {
}

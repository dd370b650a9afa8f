package io.javastor.gateway.nexus;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import io.javastor.api.core.v1.Volume;
import io.swagger.v3.oas.annotations.media.Schema;

/**
 * A volume's target, which mirrors its writes to the replicas. The core agent reports a nexus as the
 * target of a published volume (same uuid, per the design), so this is derived from the volume.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@Schema(requiredProperties = {"uuid", "node", "size", "state", "children", "deviceUri", "protocol", "rebuilds"})
public record Nexus(String uuid, String node, long size,
        @Schema(allowableValues = {"Online", "Degraded", "Faulted", "Unknown"}) String state,
        List<Child> children,
        @JsonProperty("deviceUri") String deviceUri,
        @Schema(allowableValues = {"nvmf"}) String protocol,
        @Schema(description = "rebuilds in progress") int rebuilds) {

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(name = "Child", requiredProperties = {"uri", "state"})
    public record Child(String uri,
            @Schema(allowableValues = {"Online", "Unknown"}) String state,
            @JsonProperty("rebuildProgress") Integer rebuildProgress) {
    }

    /** The nexus of a published volume; null when the volume has no target. */
    public static Nexus of(Volume v) {
        if (!v.hasTarget() || v.getTarget().getNodeId().isEmpty()) {
            return null;
        }
        List<Child> children = v.getReplicasList().stream()
                .map(r -> new Child(r.getUri(), r.getPresent() ? "Online" : "Unknown", null)).toList();
        return new Nexus(v.getUuid(), v.getTarget().getNodeId(), v.getSize(), volumeState(v), children, v.getTarget().getUri(),
                "nvmf", 0);
    }

    public static String volumeState(Volume v) {
        return switch (v.getStatus()) {
            case VOLUME_STATUS_ONLINE -> "Online";
            case VOLUME_STATUS_DEGRADED -> "Degraded";
            case VOLUME_STATUS_FAULTED -> "Faulted";
            default -> "Unknown";
        };
    }
}

package io.javastor.gateway.events;

import java.time.Instant;

import com.fasterxml.jackson.annotation.JsonProperty;

import io.swagger.v3.oas.annotations.media.Schema;

/** One entry of the core agent's event history. */
@Schema(requiredProperties = {"id", "time", "resource_kind", "resource_id", "kind", "severity", "message", "agent_id"})
public record Event(long id, Instant time,
        @Schema(description = "node, pool, replica, volume, agent") @JsonProperty("resource_kind") String resourceKind,
        @JsonProperty("resource_id") String resourceId,
        @Schema(description = "what happened, e.g. VolumeCreated, NodeOffline") String kind,
        @Schema(allowableValues = {"Info", "Warning", "Error", "Unknown"}) String severity,
        String message,
        @JsonProperty("agent_id") String agentId) {

    static Event from(io.javastor.api.core.v1.Event e) {
        String severity = switch (e.getSeverity()) {
            case SEVERITY_INFO -> "Info";
            case SEVERITY_WARNING -> "Warning";
            case SEVERITY_ERROR -> "Error";
            default -> "Unknown";
        };
        return new Event(e.getId(), Instant.ofEpochSecond(e.getTime().getSeconds(), e.getTime().getNanos()), e.getResourceKind(),
                e.getResourceId(), e.getKind(), severity, e.getMessage(), e.getAgentId());
    }
}

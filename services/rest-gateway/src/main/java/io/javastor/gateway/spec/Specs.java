package io.javastor.gateway.spec;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonProperty;

import io.swagger.v3.oas.annotations.media.Schema;

/** The desired state as the core agent keeps it in etcd. */
@Schema(requiredProperties = {"volumes", "pools", "replicas", "nexuses", "nodes"})
public record Specs(List<SpecEntry> volumes, List<SpecEntry> pools, List<SpecEntry> replicas,
        @Schema(description = "volumes' targets (managed, owner set) and nexuses made outside volumes, as Mayastor's NexusSpec") List<NexusSpec> nexuses,
        List<SpecEntry> nodes) {

    @Schema(name = "SpecEntry", requiredProperties = {"id", "status", "mod_revision", "spec"})
    public record SpecEntry(String id,
            @Schema(allowableValues = {"Creating", "Created", "Deleting", "Deleted", "Unknown"}) String status,
            @Schema(description = "etcd revision of the last change") @JsonProperty("mod_revision") long modRevision,
            @Schema(description = "the spec as stored") Map<String, Object> spec) {
    }
}

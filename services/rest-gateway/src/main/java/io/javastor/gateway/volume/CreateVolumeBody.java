package io.javastor.gateway.volume;

import java.util.Map;

import com.fasterxml.jackson.annotation.JsonProperty;

import io.swagger.v3.oas.annotations.media.Schema;

@Schema(requiredProperties = {"size", "replicas", "thin", "policy"})
public record CreateVolumeBody(
        @Schema(description = "bytes", example = "1073741824") Long size,
        @Schema(description = "number of replicas, 1..max-replicas", example = "3") Integer replicas,
        @Schema(description = "thin provisioned (space is allocated on write)") Boolean thin,
        VolumePolicy policy,
        VolumeTopology topology,
        @Schema(description = "not supported by this core agent: must be absent or empty") Map<String, String> labels,
        @JsonProperty("affinity_group") AffinityGroup affinityGroup,
        @Schema(description = "how many snapshots the volume may have; absent or 0: no limit") @JsonProperty("max_snapshots") Integer maxSnapshots) {

    @Schema(name = "AffinityGroup", requiredProperties = {"id"})
    public record AffinityGroup(@Schema(description = "volumes of one group keep their replicas on different nodes") String id) {
    }
}

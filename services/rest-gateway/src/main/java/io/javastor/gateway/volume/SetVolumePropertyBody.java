package io.javastor.gateway.volume;

import com.fasterxml.jackson.annotation.JsonProperty;

import io.swagger.v3.oas.annotations.media.Schema;

/** Mayastor's one settable volume property per call; the controller reads the body as a map to name unknown ones. */
@Schema(name = "SetVolumePropertyBody", description = "exactly one property", example = "{\"max_snapshots\": 0}")
public record SetVolumePropertyBody(
        @Schema(description = "most snapshots the volume may have; snapshots are not supported yet, so only 0", minimum = "0")
        @JsonProperty("max_snapshots") Integer maxSnapshots) {
}

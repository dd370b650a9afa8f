package io.javastor.gateway.replica;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonProperty;

import io.swagger.v3.oas.annotations.media.Schema;

/** A replica outside any volume, as Mayastor's CreateReplicaBody. */
@Schema(requiredProperties = {"size", "thin"})
public record CreateReplicaBody(
        @Schema(description = "bytes") Long size,
        Boolean thin,
        @Schema(allowableValues = {"none", "nvmf"}, description = "share it at once; absent: none") String share,
        @Schema(description = "host NQNs allowed to connect when shared: required with share nvmf (at least one; each authenticates with its own DH-HMAC-CHAP pair)")
        @JsonProperty("allowed_hosts") List<String> allowedHosts) {
}

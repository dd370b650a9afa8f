package io.javastor.gateway.replica;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import io.swagger.v3.oas.annotations.media.Schema;

/** A replica: one copy of a volume's data in a pool. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@Schema(requiredProperties = {"uuid", "node", "pool", "size", "thin", "share", "uri", "state", "kind"})
public record Replica(String uuid, String node, String pool, long size, boolean thin,
        @Schema(allowableValues = {"none", "nvmf"}) String share,
        @Schema(description = "where the io-engine exposes it; empty while the node has not reported it") String uri,
        @Schema(allowableValues = {"Online", "Unknown"}, description = "Online when its node reports it, else Unknown") String state,
        @Schema(allowableValues = {"Regular"}) String kind,
        @Schema(description = "the volume it belongs to") String owner,
        @JsonProperty("allowed-hosts") List<String> allowedHosts) {

    public static Replica from(io.javastor.api.core.v1.Replica r) {
        String share = r.getUri().startsWith("nvmf") ? "nvmf" : "none";
        return new Replica(r.getUuid(), r.getNodeId(), r.getPoolId(), r.getSize(), r.getThin(), share, r.getUri(),
                r.getPresent() ? "Online" : "Unknown", "Regular", r.getVolumeId().isEmpty() ? null : r.getVolumeId(),
                r.getAllowedHostsCount() == 0 ? null : r.getAllowedHostsList());
    }
}

package io.javastor.gateway.volume;

import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import io.javastor.api.core.v1.RebuildRecord;
import io.swagger.v3.oas.annotations.media.Schema;

/** Mayastor's RebuildHistory: the rebuilds a volume's target ran, oldest first. */
@Schema(requiredProperties = {"targetUuid", "records"})
public record RebuildHistory(@JsonProperty("targetUuid") String targetUuid, List<Record> records) {

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(name = "RebuildRecord", requiredProperties = {"childUri", "srcUri", "rebuildJobState", "blocksTotal", "blocksRecovered",
            "blocksTransferred", "blocksRemaining", "blockSize", "isPartial", "startTime"})
    public record Record(@JsonProperty("childUri") String childUri,
            @JsonProperty("srcUri") String srcUri,
            @Schema(allowableValues = {"Init", "Rebuilding", "Stopped", "Paused", "Failed", "Completed"})
            @JsonProperty("rebuildJobState") String rebuildJobState,
            @JsonProperty("blocksTotal") long blocksTotal,
            @JsonProperty("blocksRecovered") long blocksRecovered,
            @JsonProperty("blocksTransferred") long blocksTransferred,
            @JsonProperty("blocksRemaining") long blocksRemaining,
            @JsonProperty("blockSize") long blockSize,
            @Schema(description = "only the segments written while the child was away were copied")
            @JsonProperty("isPartial") boolean isPartial,
            @JsonProperty("startTime") Instant startTime,
            @Schema(description = "absent while running") @JsonProperty("endTime") Instant endTime,
            @Schema(description = "why it failed or stopped") String reason) {
    }

    static RebuildHistory from(io.javastor.api.core.v1.RebuildHistory h) {
        return new RebuildHistory(h.getVolumeUuid(), h.getRecordsList().stream().map(RebuildHistory::record).toList());
    }

    private static Record record(RebuildRecord r) {
        String state = switch (r.getState()) {
            case REBUILD_STATE_RUNNING -> "Rebuilding";
            case REBUILD_STATE_PAUSED -> "Paused";
            case REBUILD_STATE_COMPLETED -> "Completed";
            case REBUILD_STATE_FAILED -> "Failed";
            case REBUILD_STATE_CANCELLED -> "Stopped";
            default -> "Init";
        };
        return new Record(r.getChildUri(), r.getSourceUri(), state, r.getBlocksTotal(), r.getBlocksRecovered(), r.getBlocksRecovered(),
                Math.max(0, r.getBlocksTotal() - r.getBlocksRecovered()), r.getBlockSize(), r.getPartial(), instant(r.getStartTime()),
                r.hasEndTime() ? instant(r.getEndTime()) : null, r.getReason().isEmpty() ? null : r.getReason());
    }

    private static Instant instant(com.google.protobuf.Timestamp t) {
        return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
    }
}

package io.javastor.gateway.snapshot;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import io.javastor.gateway.spec.SpecStatus;
import io.swagger.v3.oas.annotations.media.Schema;

/** Mayastor's v0 VolumeSnapshot: its definition (metadata and spec, the intent) and its state (what the pools report). */
@Schema(requiredProperties = {"definition", "state"})
public record VolumeSnapshot(Definition definition, State state) {

    @Schema(name = "VolumeSnapshotDefinition", requiredProperties = {"metadata", "spec"})
    public record Definition(Metadata metadata, Spec spec) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(name = "VolumeSnapshotMetadata", requiredProperties = {"status", "size", "spec_size", "total_allocated_size", "txn_id",
            "transactions", "num_restores", "num_snapshot_replicas"})
    public record Metadata(@Schema(allowableValues = {"Creating", "Created", "Deleting", "Deleted", "Unknown"}) String status,
            String timestamp, long size, @JsonProperty("spec_size") long specSize,
            @JsonProperty("total_allocated_size") long totalAllocatedSize, @JsonProperty("txn_id") String txnId,
            Map<String, List<ReplicaSnapshot>> transactions, @JsonProperty("num_restores") int numRestores,
            @JsonProperty("num_snapshot_replicas") int numSnapshotReplicas) {
    }

    @Schema(name = "VolumeSnapshotSpec", requiredProperties = {"uuid", "source_volume"})
    public record Spec(String uuid, @JsonProperty("source_volume") String sourceVolume) {
    }

    @Schema(name = "ReplicaSnapshot", requiredProperties = {"uuid", "source_id", "status"})
    public record ReplicaSnapshot(String uuid, @JsonProperty("source_id") String sourceId, String status) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(name = "VolumeSnapshotState", requiredProperties = {"uuid", "allocated_size", "source_volume", "ready_as_source", "replica_snapshots"})
    public record State(String uuid, @JsonProperty("allocated_size") long allocatedSize, @JsonProperty("source_volume") String sourceVolume,
            String timestamp, @JsonProperty("ready_as_source") boolean readyAsSource,
            @JsonProperty("replica_snapshots") List<ReplicaSnapshotState> replicaSnapshots) {
    }

    /** Exactly one of the two is set, as in the v0 spec's oneOf. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(name = "ReplicaSnapshotState")
    public record ReplicaSnapshotState(Online online, Offline offline) {
    }

    @Schema(name = "OnlineReplicaSnapshotState", requiredProperties = {"uuid", "source_id", "pool_uuid", "pool_id", "timestamp", "size",
            "allocated_size", "predecessor_alloc_size"})
    public record Online(String uuid, @JsonProperty("source_id") String sourceId, @JsonProperty("pool_id") String poolId,
            @JsonProperty("pool_uuid") String poolUuid, String timestamp, long size, @JsonProperty("allocated_size") long allocatedSize,
            @JsonProperty("predecessor_alloc_size") long predecessorAllocSize) {
    }

    @Schema(name = "OfflineReplicaSnapshotState", requiredProperties = {"uuid", "source_id", "pool_uuid", "pool_id"})
    public record Offline(String uuid, @JsonProperty("source_id") String sourceId, @JsonProperty("pool_id") String poolId,
            @JsonProperty("pool_uuid") String poolUuid) {
    }

    /** A page of snapshots; {@code next_token} is absent on the last page. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(name = "VolumeSnapshots", requiredProperties = {"entries"})
    public record Page(List<VolumeSnapshot> entries, @JsonProperty("next_token") Long nextToken) {
    }

    static VolumeSnapshot from(io.javastor.api.core.v1.VolumeSnapshot s) {
        String timestamp = Instant.ofEpochSecond(s.getCreated().getSeconds(), s.getCreated().getNanos()).toString();
        String status = SpecStatus.of(s.getOperation());
        List<ReplicaSnapshot> txn = s.getReplicasList().stream()
                .map(r -> new ReplicaSnapshot(r.getSnapshotUuid(), r.getReplicaUuid(), status)).toList();
        long allocated = 0;
        List<ReplicaSnapshotState> states = new java.util.ArrayList<>();
        for (var r : s.getReplicasList()) {
            if (r.getOnline()) {
                // The volume's allocation is its largest replica's, as Mayastor reports it.
                allocated = Math.max(allocated, r.getAllocated());
                states.add(new ReplicaSnapshotState(new Online(r.getSnapshotUuid(), r.getReplicaUuid(), r.getPoolId(), r.getPoolUuid(),
                        Instant.ofEpochSecond(r.getCreated().getSeconds(), r.getCreated().getNanos()).toString(), r.getSize(), r.getAllocated(), 0),
                        null));
            } else {
                states.add(new ReplicaSnapshotState(null, new Offline(r.getSnapshotUuid(), r.getReplicaUuid(), r.getPoolId(), "")));
            }
        }
        boolean ready = status.equals("Created") && s.getReplicasList().stream().anyMatch(io.javastor.api.core.v1.ReplicaSnapshotRef::getOnline);
        Metadata metadata = new Metadata(status, timestamp, s.getSize(), s.getSize(), allocated, Long.toString(s.getTxnId()),
                Map.of(Long.toString(s.getTxnId()), txn), s.getRestoredVolumesCount(), s.getReplicasCount());
        return new VolumeSnapshot(new Definition(metadata, new Spec(s.getId(), s.getVolumeId())),
                new State(s.getId(), allocated, s.getVolumeId(), timestamp, ready, states));
    }
}

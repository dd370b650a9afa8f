package io.javastor.gateway.volume;

import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import io.javastor.gateway.nexus.Nexus;
import io.javastor.gateway.spec.SpecStatus;
import io.swagger.v3.oas.annotations.media.Schema;

/** A volume: the user's intent (spec) and what the io-engines report (state). */
@Schema(requiredProperties = {"spec", "state"})
public record Volume(VolumeSpec spec, VolumeState state) {

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(name = "VolumeSpec", requiredProperties = {"uuid", "size", "num_replicas", "status", "policy", "thin", "num_snapshots"})
    public record VolumeSpec(String uuid, long size, @JsonProperty("num_replicas") int numReplicas,
            @Schema(allowableValues = {"Creating", "Created", "Deleting", "Deleted", "Unknown"}) String status,
            VolumeTarget target, VolumeTopology topology, VolumePolicy policy, boolean thin, Map<String, String> labels,
            @JsonProperty("num_snapshots") int numSnapshots,
            @JsonProperty("affinity_group") CreateVolumeBody.AffinityGroup affinityGroup,
            @JsonProperty("max_snapshots") Integer maxSnapshots,
            @JsonProperty("content_source") ContentSource contentSource) {
    }

    /** Mayastor's VolumeContentSource: the snapshot (and its volume) a volume was created from. */
    @Schema(name = "VolumeContentSource", requiredProperties = {"snapshot"})
    public record ContentSource(SnapshotAsSource snapshot) {
    }

    @Schema(name = "SnapshotAsSource", requiredProperties = {"snapshot", "volume"})
    public record SnapshotAsSource(String snapshot, String volume) {
    }

    @Schema(name = "VolumeTarget", requiredProperties = {"node"})
    public record VolumeTarget(String node, @Schema(allowableValues = {"nvmf"}) String protocol) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(name = "VolumeState", requiredProperties = {"uuid", "size", "status", "replica_topology"})
    public record VolumeState(String uuid, long size,
            @Schema(allowableValues = {"Online", "Degraded", "Faulted", "Unknown", "Shutdown"}) String status,
            Nexus target,
            @JsonProperty("replica_topology") Map<String, ReplicaTopology> replicaTopology) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(name = "ReplicaTopology", requiredProperties = {"state"})
    public record ReplicaTopology(String node, String pool,
            @Schema(allowableValues = {"Online", "Unknown"}) String state,
            @JsonProperty("child-status") String childStatus,
            @JsonProperty("rebuild-progress") Integer rebuildProgress) {
    }

    /** @param nexus the volume's target as its node reports it; null when unpublished or not reported */
    static Volume from(io.javastor.api.core.v1.Volume v, Nexus nexus) {
        VolumeTarget target = !v.hasTarget() || v.getTarget().getNodeId().isEmpty() ? null : new VolumeTarget(v.getTarget().getNodeId(), "nvmf");
        CreateVolumeBody.AffinityGroup group = v.getAffinityGroup().isEmpty() ? null : new CreateVolumeBody.AffinityGroup(v.getAffinityGroup());
        VolumeSpec spec = new VolumeSpec(v.getUuid(), v.getSize(), v.getReplicaCount(), SpecStatus.of(v.getOperation()), target,
                VolumeTopology.from(v.getTopology()), new VolumePolicy(true), v.getThin(), null, v.getNumSnapshots(), group,
                v.getMaxSnapshots() == 0 ? null : v.getMaxSnapshots(),
                v.getContentSourceSnapshot().isEmpty() ? null : new ContentSource(new SnapshotAsSource(v.getContentSourceSnapshot(), v.getContentSourceVolume())));
        Map<String, ReplicaTopology> replicas = new LinkedHashMap<>();
        for (var r : v.getReplicasList()) {
            // Every child URI ends with its replica's uuid (bdev:///<uuid>, nvmf://.../nqn...:<uuid>).
            Nexus.Child child = nexus == null ? null
                    : nexus.children().stream().filter(c -> c.uri().endsWith(r.getUuid())).findFirst().orElse(null);
            replicas.put(r.getUuid(), new ReplicaTopology(r.getNodeId(), r.getPoolId(), r.getPresent() ? "Online" : "Unknown",
                    child == null ? null : child.state(), child == null ? null : child.rebuildProgress()));
        }
        return new Volume(spec, new VolumeState(v.getUuid(), v.getSize(), Nexus.volumeState(v), nexus, replicas));
    }
}

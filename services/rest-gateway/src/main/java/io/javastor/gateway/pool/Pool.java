package io.javastor.gateway.pool;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;

import io.javastor.gateway.spec.SpecStatus;
import io.swagger.v3.oas.annotations.media.Schema;

/** A pool: its spec and, once its node reported it, its state. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@Schema(requiredProperties = {"id"})
public record Pool(String id, PoolSpec spec, PoolState state) {

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(name = "PoolSpec", requiredProperties = {"id", "node", "disks", "status"})
    public record PoolSpec(String id, String node, List<String> disks, Map<String, String> labels,
            @Schema(allowableValues = {"Creating", "Created", "Deleting", "Deleted", "Unknown"}) String status) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(name = "PoolState", requiredProperties = {"id", "node", "disks", "status", "capacity", "used"})
    public record PoolState(String id, String node, List<String> disks,
            @Schema(allowableValues = {"Online", "Degraded", "Faulted", "Unknown"}) String status,
            @Schema(description = "bytes") long capacity, @Schema(description = "bytes") long used,
            @Schema(description = "bytes promised to replicas (thin ones may use less)") Long committed) {
    }

    public static Pool from(io.javastor.api.core.v1.Pool p) {
        String status = switch (p.getStatus()) {
            case POOL_STATUS_ONLINE -> "Online";
            case POOL_STATUS_DEGRADED -> "Degraded";
            case POOL_STATUS_FAULTED -> "Faulted";
            default -> "Unknown";
        };
        return new Pool(p.getId(),
                new PoolSpec(p.getId(), p.getNodeId(), p.getDisksList(), p.getLabelsMap(), SpecStatus.of(p.getOperation())),
                new PoolState(p.getId(), p.getNodeId(), p.getDisksList(), status, p.getCapacity(), p.getUsed(), p.getCommitted()));
    }
}

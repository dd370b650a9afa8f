package io.javastor.gateway.nexus;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import io.swagger.v3.oas.annotations.media.Schema;

/** A nexus as its node reports it: a volume's target (same uuid as the volume) or one made outside volumes. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@Schema(requiredProperties = {"uuid", "node", "size", "state", "children", "deviceUri", "protocol", "rebuilds"})
public record Nexus(String uuid, String node, long size,
        @Schema(allowableValues = {"Online", "Degraded", "Faulted", "Shutdown", "Unknown"}) String state,
        List<Child> children,
        @Schema(description = "nvmf://host:port/nqn while shared; empty otherwise") @JsonProperty("deviceUri") String deviceUri,
        @Schema(allowableValues = {"none", "nvmf"}) String protocol,
        @Schema(description = "rebuilds in progress") int rebuilds) {

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(name = "Child", requiredProperties = {"uri", "state"})
    public record Child(String uri,
            @Schema(allowableValues = {"Online", "Degraded", "Faulted", "Unknown"}, description = "Degraded: being rebuilt") String state,
            @Schema(description = "percent of the running rebuild; present while the child is rebuilt")
            @JsonProperty("rebuildProgress") Integer rebuildProgress) {

        static Child from(io.javastor.api.core.v1.NexusChild c) {
            String state = switch (c.getStatus()) {
                case CHILD_STATUS_ONLINE -> "Online";
                case CHILD_STATUS_DEGRADED -> "Degraded";
                case CHILD_STATUS_FAULTED -> "Faulted";
                default -> "Unknown";
            };
            return new Child(c.getUri(), state, c.getStatus() == io.javastor.api.core.v1.ChildStatus.CHILD_STATUS_DEGRADED
                    ? Integer.valueOf(c.getRebuildProgress()) : null);
        }
    }

    public static Nexus from(io.javastor.api.core.v1.Nexus n) {
        String state = switch (n.getStatus()) {
            case NEXUS_STATUS_ONLINE -> "Online";
            case NEXUS_STATUS_DEGRADED -> "Degraded";
            case NEXUS_STATUS_FAULTED -> "Faulted";
            case NEXUS_STATUS_SHUTDOWN -> "Shutdown";
            default -> "Unknown";
        };
        return new Nexus(n.getUuid(), n.getNodeId(), n.getSize(), state, n.getChildrenList().stream().map(Child::from).toList(),
                n.getDeviceUri(), n.getProtocol() == io.javastor.api.core.v1.NexusProtocol.NEXUS_PROTOCOL_NVMF ? "nvmf" : "none",
                n.getRebuilds());
    }

    public static String volumeState(io.javastor.api.core.v1.Volume v) {
        return switch (v.getStatus()) {
            case VOLUME_STATUS_ONLINE -> "Online";
            case VOLUME_STATUS_DEGRADED -> "Degraded";
            case VOLUME_STATUS_FAULTED -> "Faulted";
            default -> "Unknown";
        };
    }
}

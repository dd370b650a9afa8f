package io.javastor.gateway.spec;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import io.swagger.v3.oas.annotations.media.Schema;

/**
 * A nexus as the cluster intends it (Mayastor's v0 NexusSpec), from the core agent's stored spec: a volume's target
 * (managed, owned by the volume) or a nexus made outside volumes through the nexus API.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@Schema(name = "NexusSpec", requiredProperties = {"children", "managed", "node", "share", "size", "status", "uuid"})
public record NexusSpec(
        @Schema(description = "the children's URIs (bdev:///<replica uuid> on the nexus's node, nvmf://... of a remote replica)") List<String> children,
        @Schema(description = "made by the control plane for a volume (its target); false for a nexus made through the nexus API") boolean managed,
        @Schema(description = "the node the nexus lives on") String node,
        @Schema(description = "the volume whose target it is; absent for a nexus outside volumes") String owner,
        @Schema(allowableValues = {"none", "nvmf"}) String share,
        @Schema(description = "bytes (a target's is its volume's)") long size,
        @Schema(allowableValues = {"Creating", "Created", "Deleting", "Deleted", "Unknown"}) String status,
        String uuid,
        @Schema(description = "host NQNs allowed to connect while shared") @JsonProperty("allowed_hosts") List<String> allowedHosts,
        @Schema(description = "etcd revision of the last change") @JsonProperty("mod_revision") long modRevision) {

    /**
     * @param stored      the core agent's nexus spec as stored (uuid, nodeId, children [{uri}], allowedHosts, uri, volumeId, size)
     * @param volumeSizes the volumes' sizes by uuid, for a target's size
     */
    static NexusSpec from(Map<String, Object> stored, String status, long modRevision, Map<String, Long> volumeSizes) {
        String uuid = text(stored.get("uuid"));
        // Specs written before nexuses could exist outside volumes have no volumeId: they are volume targets.
        String owner = stored.containsKey("volumeId") && stored.get("volumeId") != null ? text(stored.get("volumeId")) : uuid;
        boolean managed = !owner.isEmpty();
        List<String> children = new ArrayList<>();
        if (stored.get("children") instanceof List<?> list) {
            for (Object child : list) {
                if (child instanceof Map<?, ?> c) {
                    children.add(text(c.get("uri")));
                }
            }
        }
        List<String> hosts = new ArrayList<>();
        if (stored.get("allowedHosts") instanceof List<?> list) {
            list.forEach(h -> hosts.add(text(h)));
        }
        long size = managed ? volumeSizes.getOrDefault(owner, 0L) : stored.get("size") instanceof Number n ? n.longValue() : 0L;
        return new NexusSpec(children, managed, text(stored.get("nodeId")), managed ? owner : null,
                text(stored.get("uri")).isEmpty() ? "none" : "nvmf", size, status, uuid, hosts, modRevision);
    }

    private static String text(Object o) {
        return o == null ? "" : o.toString();
    }
}

package io.javastor.gateway.volume;

import java.util.List;
import java.util.Map;

import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

import io.javastor.api.core.v1.CreateVolumeRequest;
import io.javastor.api.core.v1.DestroyVolumeRequest;
import io.javastor.api.core.v1.GetVolumeRequest;
import io.javastor.api.core.v1.ListNexusesRequest;
import io.javastor.api.core.v1.ListNexusesResponse;
import io.javastor.api.core.v1.ListVolumesRequest;
import io.javastor.api.core.v1.PublishVolumeRequest;
import io.javastor.api.core.v1.ResizeVolumeRequest;
import io.javastor.api.core.v1.SetVolumeReplicaCountRequest;
import io.javastor.api.core.v1.Topology;
import io.javastor.api.core.v1.UnpublishVolumeRequest;
import io.javastor.gateway.coreclient.CoreAgentClient;
import io.javastor.gateway.nexus.Nexus;
import io.javastor.gateway.errors.ApiException;
import io.javastor.gateway.errors.ErrorKind;
import io.javastor.gateway.validation.InputRules;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;

@RestController
@RequestMapping("/v0")
@Tag(name = "Volumes")
public class VolumeController {

    /** The host NQN of a node, as the io-engine and the CSI node plugin use it (DESIGN.md). */
    static final String HOST_NQN_PREFIX = "nqn.2019-05.io.javastor:node-name:";

    private static final tools.jackson.databind.json.JsonMapper JSON = tools.jackson.databind.json.JsonMapper.builder().build();

    private final CoreAgentClient agent;
    private final VolumeLimits limits;
    private final VolumeListingJson listings;

    public VolumeController(CoreAgentClient agent, VolumeLimits limits, VolumeListingJson listings) {
        this.agent = agent;
        this.limits = limits;
        this.listings = listings;
    }

    // The body is written by VolumeListingJson (reused while the agent answers the same); the document says what it is.
    @Operation(summary = "List volumes, ordered by uuid, in pages", responses = @ApiResponse(responseCode = "200", description = "OK",
            content = @Content(mediaType = "*/*", schema = @Schema(implementation = VolumePage.class))))
    @GetMapping(path = "/volumes", produces = MediaType.APPLICATION_JSON_VALUE) // JSON or 406, as the converter answered
    public ResponseEntity<byte[]> getVolumes(
            @Parameter(description = "at most this many entries; absent or 0: all") @RequestParam(name = "max_entries", required = false) Integer maxEntries,
            @Parameter(description = "the next_token of the previous page; absent: from the start") @RequestParam(name = "starting_token", required = false) Long startingToken) {
        int max = InputRules.nonNegative("max_entries", maxEntries, 0);
        if (startingToken != null && startingToken < 0) {
            throw ApiException.invalid("starting_token", "must not be negative, got " + startingToken);
        }
        long start = startingToken == null ? 0 : startingToken;
        // The agent pages (uuid order) so only the page's volumes are built and sent.
        var page = agent.idempotent(s -> s.volumes().listVolumes(ListVolumesRequest.newBuilder().setMaxEntries(max)
                .setStartingToken(start).build()));
        // One call for every nexus, not one per volume; none when no volume of the page is published.
        ListNexusesResponse nexuses = page.getVolumesList().stream().anyMatch(VolumeController::published)
                ? agent.idempotent(s -> s.nexuses().listNexuses(ListNexusesRequest.getDefaultInstance())) : null;
        byte[] body = listings.of(page, nexuses, () -> new VolumePage(withTargets(page.getVolumesList(), nexuses),
                page.hasNextToken() ? page.getNextToken() : null));
        return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(body);
    }

    @Operation(summary = "The rebuilds the volume's targets (nexus) ran, oldest first, as the core agent recorded them: kept across "
            + "agent and io-engine restarts, served also while the target's node is down or the volume unpublished")
    @GetMapping("/volumes/{volume_id}/rebuild-history")
    public RebuildHistory getRebuildHistory(@PathVariable("volume_id") String volumeId) {
        String uuid = InputRules.uuid("volume_id", volumeId);
        return RebuildHistory.from(agent.idempotent(s -> s.volumes().getRebuildHistory(
                io.javastor.api.core.v1.GetRebuildHistoryRequest.newBuilder().setUuid(uuid).build())));
    }

    @GetMapping("/volumes/{volume_id}")
    public Volume getVolume(@PathVariable("volume_id") String volumeId) {
        String uuid = InputRules.uuid("volume_id", volumeId);
        return withTarget(agent.idempotent(s -> s.volumes().getVolume(GetVolumeRequest.newBuilder().setUuid(uuid).build())));
    }

    @Operation(summary = "Create a volume; repeating it with the same body answers the same volume, another body 409; "
            + "no pool can take a replica: 507")
    @PutMapping("/volumes/{volume_id}")
    public Volume putVolume(@PathVariable("volume_id") String volumeId, @RequestBody CreateVolumeBody body) {
        String uuid = InputRules.uuid("volume_id", volumeId);
        CreateVolumeRequest request = createRequest(uuid, InputRules.required("body", body));
        return withTarget(agent.idempotent(s -> s.volumes().createVolume(request)));
    }

    @Operation(summary = "Destroy a volume and its replicas; destroying a volume that is gone succeeds")
    @DeleteMapping("/volumes/{volume_id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void delVolume(@PathVariable("volume_id") String volumeId) {
        String uuid = InputRules.uuid("volume_id", volumeId);
        agent.idempotent(s -> s.volumes().destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build()));
    }

    @Operation(summary = "Publish: create the volume's target (nexus) and share it over NVMe-oF/TCP")
    @PutMapping("/volumes/{volume_id}/target")
    public Volume putVolumeTarget(@PathVariable("volume_id") String volumeId, @RequestBody PublishVolumeBody body) {
        String uuid = InputRules.uuid("volume_id", volumeId);
        InputRules.required("body", body);
        String protocol = InputRules.required("protocol", body.protocol());
        if (!protocol.equals("nvmf")) {
            throw ApiException.invalid("protocol", "must be nvmf, got '" + protocol + "'");
        }
        InputRules.required("publish_context", body.publishContext());
        // republish: a published target moves (to node, or to another node), fenced with a new generation (docs/ha.md)
        PublishVolumeRequest.Builder request = PublishVolumeRequest.newBuilder().setUuid(uuid).setRepublish(Boolean.TRUE.equals(body.republish()));
        if (body.node() != null) {
            request.setPreferredNodeId(InputRules.nodeId("node", body.node()));
        }
        if (!request.getRepublish()) { // a move keeps the hosts the volume was published to
            // Always named: a target is never open to every host (each host authenticates with its own secret).
            request.addAllowedHosts(HOST_NQN_PREFIX + InputRules.nodeId("frontend_node", InputRules.required("frontend_node", body.frontendNode())));
        } else if (body.frontendNode() != null) {
            throw ApiException.invalid("frontend_node", "a republish keeps the hosts the volume is published to; leave it out");
        }
        return withTarget(agent.once(s -> s.volumes().publishVolume(request.build())));
    }

    @Operation(summary = "Shut down the volume's old targets: those left on nodes its target moved away from")
    @DeleteMapping("/volumes/{volume_id}/shutdown_targets")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void delShutdownTargets(@PathVariable("volume_id") String volumeId) {
        String uuid = InputRules.uuid("volume_id", volumeId);
        agent.idempotent(s -> s.volumes().shutdownStaleTargets(io.javastor.api.core.v1.ShutdownStaleTargetsRequest.newBuilder().setUuid(uuid).build()));
    }

    @Operation(summary = "Unpublish: remove the volume's target")
    @DeleteMapping("/volumes/{volume_id}/target")
    public Volume delVolumeTarget(@PathVariable("volume_id") String volumeId) {
        String uuid = InputRules.uuid("volume_id", volumeId);
        return withTarget(agent.once(s -> s.volumes().unpublishVolume(UnpublishVolumeRequest.newBuilder().setUuid(uuid).build())));
    }

    @Operation(summary = "Set the number of replicas; the agent adds or removes replicas to match")
    @PutMapping("/volumes/{volume_id}/replica_count/{replica_count}")
    public Volume putVolumeReplicaCount(@PathVariable("volume_id") String volumeId,
            @PathVariable("replica_count") Integer replicaCount) {
        String uuid = InputRules.uuid("volume_id", volumeId);
        int count = InputRules.replicaCount("replica_count", replicaCount, limits.maxReplicas());
        return withTarget(agent.idempotent(s -> s.volumes().setVolumeReplicaCount(
                SetVolumeReplicaCountRequest.newBuilder().setUuid(uuid).setReplicaCount(count).build())));
    }

    @Operation(summary = "Grow a volume; the same size succeeds, a smaller one is 400")
    @PutMapping("/volumes/{volume_id}/size")
    public Volume putVolumeSize(@PathVariable("volume_id") String volumeId, @RequestBody ResizeVolumeBody body) {
        String uuid = InputRules.uuid("volume_id", volumeId);
        long size = InputRules.positiveSize("size", InputRules.required("body", body).size());
        return withTarget(agent.idempotent(s -> s.volumes().resizeVolume(ResizeVolumeRequest.newBuilder().setUuid(uuid).setSize(size).build())));
    }

    /** The properties PUT /volumes/{id}/property takes (Mayastor's SetVolumePropertyBody). */
    static final String MAX_SNAPSHOTS = "max_snapshots";

    @Operation(summary = "Set one volume property (body: exactly one). max_snapshots: how many snapshots the volume may have, "
            + "0 for no limit (fewer than it has now only stops new ones); any other property is 400 naming it. Answers the volume; "
            + "the same body again succeeds")
    @PutMapping("/volumes/{volume_id}/property")
    public Volume putVolumeProperty(@PathVariable("volume_id") String volumeId,
            @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @io.swagger.v3.oas.annotations.media.Content(
                    schema = @io.swagger.v3.oas.annotations.media.Schema(implementation = SetVolumePropertyBody.class)))
            @RequestBody(required = false) Map<String, Object> body) {
        String uuid = InputRules.uuid("volume_id", volumeId);
        InputRules.required("body", body);
        if (body.size() != 1) {
            throw ApiException.invalid("body", "name exactly one property (" + MAX_SNAPSHOTS + "), got " + body.keySet());
        }
        Map.Entry<String, Object> property = body.entrySet().iterator().next();
        if (!property.getKey().equals(MAX_SNAPSHOTS)) {
            throw ApiException.invalid(property.getKey(), "not a volume property that can be set; the one there is: " + MAX_SNAPSHOTS);
        }
        if (!(property.getValue() instanceof Integer || property.getValue() instanceof Long)
                || ((Number) property.getValue()).longValue() < 0) {
            throw ApiException.invalid(MAX_SNAPSHOTS, "must be a whole number, at least 0, got " + property.getValue());
        }
        long max = ((Number) property.getValue()).longValue();
        if (max > Integer.MAX_VALUE) {
            throw ApiException.invalid(MAX_SNAPSHOTS, "too large: " + max);
        }
        return withTarget(agent.idempotent(s -> s.volumes().setVolumeMaxSnapshots(io.javastor.api.core.v1.SetVolumeMaxSnapshotsRequest
                .newBuilder().setUuid(uuid).setMaxSnapshots((int) max).build())));
    }

    @Operation(summary = "The published volume's target share: a published volume is always shared over nvmf, so this answers its "
            + "nvmf:// URI (a JSON string). An unpublished volume is 412 (publish it with PUT /target), iscsi 422, frontend_host "
            + "other than the host it is published to 412")
    @PutMapping(path = "/volumes/{volume_id}/share/{protocol}", produces = MediaType.APPLICATION_JSON_VALUE)
    public ResponseEntity<String> putVolumeShare(@PathVariable("volume_id") String volumeId, @PathVariable String protocol,
            @Parameter(description = "the app node that connects; must be the one the volume is published to")
            @RequestParam(name = "frontend_host", required = false) String frontendHost) {
        String uuid = InputRules.uuid("volume_id", volumeId);
        if (protocol.equals("iscsi")) {
            throw ApiException.unsupported("protocol", "iscsi is not supported; volumes are shared over nvmf");
        }
        if (!protocol.equals("nvmf")) {
            throw ApiException.invalid("protocol", "must be nvmf, got '" + protocol + "'");
        }
        String host = frontendHost == null ? null : HOST_NQN_PREFIX + InputRules.nodeId("frontend_host", frontendHost);
        var volume = agent.idempotent(s -> s.volumes().getVolume(GetVolumeRequest.newBuilder().setUuid(uuid).build()));
        if (!volume.hasTarget() || volume.getTarget().getNodeId().isEmpty()) {
            throw new ApiException(ErrorKind.FailedPrecondition, "volume " + uuid + ": not published; publish it (PUT /v0/volumes/" + uuid
                    + "/target), which shares its target over nvmf", "target");
        }
        var nexus = agent.idempotent(s -> s.nexuses().getNexus(io.javastor.api.core.v1.GetNexusRequest.newBuilder().setUuid(uuid)
                .setNodeId(volume.getTarget().getNodeId()).build()));
        if (nexus.getDeviceUri().isEmpty()) {
            throw new ApiException(ErrorKind.FailedPrecondition, "volume " + uuid + ": its target on node " + nexus.getNodeId()
                    + " is not shared yet; try again", "target");
        }
        if (host != null && !nexus.getAllowedHostsList().contains(host)) {
            throw new ApiException(ErrorKind.FailedPrecondition, "frontend_host " + frontendHost + ": volume " + uuid
                    + " is published to " + nexus.getAllowedHostsList() + " only; unpublish it and publish it to that host", "frontend_host");
        }
        // Mayastor answers the URI as a JSON string.
        return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(JSON.writeValueAsString(nexus.getDeviceUri()));
    }

    @Operation(summary = "Unshare the volume's target: an unpublished volume has nothing shared (204); a published one is 409 InUse, "
            + "since its target exists to be shared with its host: unpublish it (DELETE /target) instead. Mayastor's spec spells the "
            + "path without the slash (/volumes{volume_id}/share); both are served")
    @DeleteMapping({"/volumes/{volume_id}/share", "/volumes{volume_id}/share"})
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void delVolumeShare(@PathVariable("volume_id") String volumeId) {
        String uuid = InputRules.uuid("volume_id", volumeId);
        var volume = agent.idempotent(s -> s.volumes().getVolume(GetVolumeRequest.newBuilder().setUuid(uuid).build()));
        if (volume.hasTarget() && !volume.getTarget().getNodeId().isEmpty()) {
            throw new ApiException(ErrorKind.InUse, "volume " + uuid + ": its target on node " + volume.getTarget().getNodeId()
                    + " is shared with the host it is published to; unsharing would cut that host off: unpublish it (DELETE /v0/volumes/"
                    + uuid + "/target)", "volume " + uuid);
        }
    }

    private CreateVolumeRequest createRequest(String uuid, CreateVolumeBody body) {
        long size = InputRules.positiveSize("size", body.size());
        int replicas = InputRules.replicaCount("replicas", body.replicas(), limits.maxReplicas());
        boolean thin = InputRules.required("thin", body.thin());
        VolumePolicy policy = InputRules.required("policy", body.policy());
        if (!InputRules.required("policy.self_heal", policy.selfHeal())) {
            throw ApiException.unsupported("policy.self_heal", "the core agent always replaces faulted replicas; must be true");
        }
        Map<String, String> labels = InputRules.labels("labels", body.labels());
        if (!labels.isEmpty()) {
            throw ApiException.unsupported("labels", "volume labels are not stored by the core agent");
        }
        int maxSnapshots = InputRules.nonNegative("max_snapshots", body.maxSnapshots(), 0);
        CreateVolumeRequest.Builder request = CreateVolumeRequest.newBuilder().setUuid(uuid).setSize(size).setReplicaCount(replicas)
                .setThin(thin).setTopology(topology(body.topology())).setMaxSnapshots(maxSnapshots);
        if (body.affinityGroup() != null) {
            request.setAffinityGroup(InputRules.poolId("affinity_group.id", body.affinityGroup().id()));
        }
        return request.build();
    }

    /** The REST topology as the core agent's label requirements; what it cannot express is 422. */
    private static Topology topology(VolumeTopology t) {
        Topology.Builder out = Topology.newBuilder();
        if (t == null) {
            return out.build();
        }
        if (t.nodeTopology() != null) {
            if (t.nodeTopology().explicit() != null) {
                throw ApiException.unsupported("topology.node_topology.explicit", "explicit node lists are not supported; use labelled");
            }
            out.putAllNodeLabels(inclusion("topology.node_topology.labelled", t.nodeTopology().labelled()));
        }
        if (t.poolTopology() != null) {
            out.putAllPoolLabels(inclusion("topology.pool_topology.labelled", t.poolTopology().labelled()));
        }
        return out.build();
    }

    private static Map<String, String> inclusion(String field, VolumeTopology.LabelledTopology labelled) {
        if (labelled == null) {
            return Map.of();
        }
        if (labelled.exclusion() != null && !InputRules.labels(field + ".exclusion", labelled.exclusion()).isEmpty()) {
            throw ApiException.unsupported(field + ".exclusion", "exclusion labels are not supported");
        }
        if (labelled.affinityKey() != null && !labelled.affinityKey().isEmpty()) {
            throw ApiException.unsupported(field + ".affinity_key", "affinity keys are not supported; use affinity_group");
        }
        return InputRules.labels(field + ".inclusion", labelled.inclusion());
    }

    /** The volume with its target as the target's node reports it (none while unpublished or not reported). */
    public Volume withTarget(io.javastor.api.core.v1.Volume v) {
        if (!v.hasTarget() || v.getTarget().getNodeId().isEmpty()) {
            return Volume.from(v, null);
        }
        try {
            return Volume.from(v, Nexus.from(agent.idempotent(s -> s.nexuses().getNexus(
                    io.javastor.api.core.v1.GetNexusRequest.newBuilder().setUuid(v.getUuid()).setNodeId(v.getTarget().getNodeId()).build()))));
        } catch (io.grpc.StatusRuntimeException e) {
            if (e.getStatus().getCode() == io.grpc.Status.Code.NOT_FOUND) {
                return Volume.from(v, null); // its node does not report it (down, or the target is being re-created)
            }
            throw e;
        }
    }

    private static boolean published(io.javastor.api.core.v1.Volume v) {
        return v.hasTarget() && !v.getTarget().getNodeId().isEmpty();
    }

    /** A page of volumes with their targets as their nodes report them ({@code nexuses}: null when none is published). */
    private static List<Volume> withTargets(List<io.javastor.api.core.v1.Volume> volumes, ListNexusesResponse nexuses) {
        if (nexuses == null) {
            return volumes.stream().map(v -> Volume.from(v, null)).toList();
        }
        java.util.Map<String, Nexus> byTarget = new java.util.HashMap<>();
        nexuses.getNexusesList().forEach(n -> byTarget.put(n.getUuid() + "@" + n.getNodeId(), Nexus.from(n)));
        return volumes.stream().map(v -> Volume.from(v, v.hasTarget() ? byTarget.get(v.getUuid() + "@" + v.getTarget().getNodeId()) : null))
                .toList();
    }
}

package io.javastor.csi.controller;

import com.google.protobuf.Int64Value;
import csi.v1.ControllerGrpc;
import csi.v1.Csi.CapacityRange;
import csi.v1.Csi.ControllerExpandVolumeRequest;
import csi.v1.Csi.ControllerExpandVolumeResponse;
import csi.v1.Csi.ControllerGetCapabilitiesRequest;
import csi.v1.Csi.ControllerGetCapabilitiesResponse;
import csi.v1.Csi.ControllerPublishVolumeRequest;
import csi.v1.Csi.ControllerPublishVolumeResponse;
import csi.v1.Csi.ControllerServiceCapability;
import csi.v1.Csi.ControllerUnpublishVolumeRequest;
import csi.v1.Csi.ControllerUnpublishVolumeResponse;
import csi.v1.Csi.CreateVolumeRequest;
import csi.v1.Csi.CreateVolumeResponse;
import csi.v1.Csi.DeleteVolumeRequest;
import csi.v1.Csi.DeleteVolumeResponse;
import csi.v1.Csi.GetCapacityRequest;
import csi.v1.Csi.GetCapacityResponse;
import csi.v1.Csi.ListVolumesRequest;
import csi.v1.Csi.ListVolumesResponse;
import csi.v1.Csi.Topology;
import csi.v1.Csi.ValidateVolumeCapabilitiesRequest;
import csi.v1.Csi.ValidateVolumeCapabilitiesResponse;
import csi.v1.Csi.Volume;
import csi.v1.Csi.VolumeCapability;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.javastor.csi.Args;
import io.javastor.csi.CsiProperties;
import io.javastor.api.naming.ResourceIds;
import io.javastor.csi.node.NodeService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;

/** CSI Controller: volumes through the REST gateway; every failure mapped to the code the CSI spec asks for. */
public class ControllerService extends ControllerGrpc.ControllerImplBase {
    private static final Logger log = LoggerFactory.getLogger(ControllerService.class);
    static final long MIB = 1L << 20;
    static final int MAX_REPLICAS = 16;
    private final CsiProperties props;
    private final RestGateway gateway;

    public ControllerService(CsiProperties props, RestGateway gateway) {
        this.props = props;
        this.gateway = gateway;
    }

    /** The volume uuid is derived from the CO's name, so a retried CreateVolume finds what the first one made. */
    public static String volumeUuid(String name) {
        return UUID.nameUUIDFromBytes(("io.javastor.csi/" + name).getBytes(StandardCharsets.UTF_8)).toString();
    }

    @Override
    public void controllerGetCapabilities(ControllerGetCapabilitiesRequest request, StreamObserver<ControllerGetCapabilitiesResponse> out) {
        ControllerGetCapabilitiesResponse.Builder b = ControllerGetCapabilitiesResponse.newBuilder();
        for (ControllerServiceCapability.RPC.Type t : List.of(ControllerServiceCapability.RPC.Type.CREATE_DELETE_VOLUME,
                ControllerServiceCapability.RPC.Type.PUBLISH_UNPUBLISH_VOLUME, ControllerServiceCapability.RPC.Type.LIST_VOLUMES,
                ControllerServiceCapability.RPC.Type.GET_CAPACITY, ControllerServiceCapability.RPC.Type.EXPAND_VOLUME,
                ControllerServiceCapability.RPC.Type.CREATE_DELETE_SNAPSHOT, ControllerServiceCapability.RPC.Type.LIST_SNAPSHOTS,
                ControllerServiceCapability.RPC.Type.CLONE_VOLUME)) {
            b.addCapabilities(ControllerServiceCapability.newBuilder().setRpc(ControllerServiceCapability.RPC.newBuilder().setType(t)));
        }
        reply(out, b::build, "ControllerGetCapabilities");
    }

    @Override
    public void createVolume(CreateVolumeRequest req, StreamObserver<CreateVolumeResponse> out) {
        reply(out, () -> {
            String name = Args.required("name", req.getName());
            if (req.getVolumeCapabilitiesCount() == 0) {
                throw Args.invalid("volume_capabilities", "at least one is required");
            }
            boolean block = false;
            for (int i = 0; i < req.getVolumeCapabilitiesCount(); i++) {
                VolumeCapability cap = Args.capability("volume_capabilities[" + i + "]", true, req.getVolumeCapabilities(i));
                String why = Args.unsupportedAccessMode(cap);
                if (why != null) {
                    throw Args.invalid("volume_capabilities[" + i + "].access_mode", why);
                }
                block |= cap.hasBlock();
            }
            if (req.hasVolumeContentSource()) {
                checkContentSource(req.getVolumeContentSource());
            }
            VolumeParameters params = VolumeParameters.parse(req.getParametersMap(), MAX_REPLICAS);
            long size = size("capacity_range", req.hasCapacityRange() ? req.getCapacityRange() : null);
            checkTopology(req);
            String uuid = volumeUuid(name);
            Optional<JsonNode> existing = gateway.getVolume(uuid);
            JsonNode volume;
            if (existing.isPresent()) {
                JsonNode spec = existing.get().path("spec");
                String status = spec.path("status").asString("");
                if (status.equals("Deleting")) {
                    throw Status.ABORTED.withDescription("volume " + name + " (" + uuid + ") is being deleted").asRuntimeException();
                }
                long have = spec.path("size").asLong();
                String source = spec.path("content_source").path("snapshot").path("snapshot").asString("");
                String wantedSource = req.hasVolumeContentSource() ? sourceSnapshotId(uuid, req.getVolumeContentSource()) : "";
                if (!source.equals(wantedSource)) {
                    throw Status.ALREADY_EXISTS.withDescription("volume " + name + " exists as " + uuid + " with another content source ("
                            + (source.isEmpty() ? "none" : "snapshot " + source) + ")").asRuntimeException();
                }
                if (req.hasVolumeContentSource()) {
                    size = Math.max(size, have); // a restore is at least the snapshot's size
                }
                if (!fits(have, req.hasCapacityRange() ? req.getCapacityRange() : null, size)
                        || spec.path("num_replicas").asInt() != params.replicas() || spec.path("thin").asBoolean() != params.thin()) {
                    throw Status.ALREADY_EXISTS.withDescription("volume " + name + " exists as " + uuid + " with size " + have
                            + ", " + spec.path("num_replicas").asInt() + " replicas, thin=" + spec.path("thin").asBoolean()
                            + ": not compatible with this request").asRuntimeException();
                }
                volume = existing.get();
            } else if (req.hasVolumeContentSource()) {
                volume = createFrom(uuid, name, req, params);
            } else {
                volume = gateway.putVolume(uuid, createBody(name, size, params));
                log.info("created volume {} ({}): {} bytes, {} replicas", uuid, name, size, params.replicas());
            }
            Volume.Builder v = toCsi(volume, params.context()).toBuilder();
            if (req.hasVolumeContentSource()) {
                v.setContentSource(req.getVolumeContentSource());
            }
            return CreateVolumeResponse.newBuilder().setVolume(v).build();
        }, "CreateVolume");
    }

    @Override
    public void deleteVolume(DeleteVolumeRequest req, StreamObserver<DeleteVolumeResponse> out) {
        reply(out, () -> {
            String id = Args.required("volume_id", req.getVolumeId());
            if (!isUuid(id)) {
                return DeleteVolumeResponse.getDefaultInstance(); // not one of ours: it cannot exist, so it is deleted
            }
            gateway.deleteVolume(id);
            return DeleteVolumeResponse.getDefaultInstance();
        }, "DeleteVolume");
    }

    @Override
    public void controllerPublishVolume(ControllerPublishVolumeRequest req, StreamObserver<ControllerPublishVolumeResponse> out) {
        reply(out, () -> {
            String id = Args.required("volume_id", req.getVolumeId());
            String node = Args.required("node_id", req.getNodeId());
            VolumeCapability cap = Args.capability("volume_capability", req.hasVolumeCapability(), req.getVolumeCapability());
            String why = Args.unsupportedAccessMode(cap);
            if (why != null) {
                throw Args.invalid("volume_capability.access_mode", why);
            }
            JsonNode volume = existingVolume(id);
            // CSI: a node_id that does not exist is NOT_FOUND. Nodes exist for us when their node plugin registered them as
            // app nodes (it does at start); an io-engine node without a node plugin could not stage the volume.
            if (!ResourceIds.isNodeId(node) || !gateway.appNodeRegistered(node)) {
                throw Status.NOT_FOUND.withDescription("node " + node + " does not exist: no CSI node plugin registered it as an app node "
                        + "(GET /v0/app-nodes)").asRuntimeException();
            }
            Optional<String> frontend = frontendNode(volume);
            if (frontend.isPresent() && !frontend.get().equals(node)) {
                throw Status.FAILED_PRECONDITION.withDescription("volume " + id + " is published to node " + frontend.get()
                        + ", not " + node).asRuntimeException();
            }
            ObjectNode body = RestGateway.object().put("protocol", "nvmf").put("frontend_node", node).put("reuse_existing", true);
            ObjectNode context = body.putObject("publish_context");
            String ioTimeout = req.getVolumeContextMap().get("ioTimeout");
            if (ioTimeout != null) {
                context.put("io_timeout", ioTimeout);
            }
            JsonNode published;
            try {
                published = gateway.publish(id, body);
            } catch (RestGateway.RestError e) {
                if (e.status() == 409 || e.status() == 412) {
                    throw Status.FAILED_PRECONDITION.withDescription(e.getMessage()).asRuntimeException();
                }
                throw e;
            }
            String uri = published.path("state").path("target").path("deviceUri").asString("");
            if (uri.isEmpty()) {
                throw Status.UNAVAILABLE.withDescription("volume " + id + " has no target URI yet").asRuntimeException();
            }
            return ControllerPublishVolumeResponse.newBuilder().putPublishContext("uri", uri).build();
        }, "ControllerPublishVolume");
    }

    @Override
    public void controllerUnpublishVolume(ControllerUnpublishVolumeRequest req, StreamObserver<ControllerUnpublishVolumeResponse> out) {
        reply(out, () -> {
            String id = Args.required("volume_id", req.getVolumeId());
            Optional<JsonNode> volume = isUuid(id) ? gateway.getVolume(id) : Optional.empty();
            if (volume.isEmpty() || volume.get().path("spec").path("target").isMissingNode()
                    || volume.get().path("spec").path("target").isNull()) {
                return ControllerUnpublishVolumeResponse.getDefaultInstance(); // gone or not published: unpublished
            }
            Optional<String> frontend = frontendNode(volume.get());
            if (!req.getNodeId().isEmpty() && frontend.isPresent() && !frontend.get().equals(req.getNodeId())) {
                return ControllerUnpublishVolumeResponse.getDefaultInstance(); // not published to that node
            }
            if (!req.getNodeId().isEmpty() && frontend.isEmpty() && publishedElsewhere(id, req.getNodeId())) {
                return ControllerUnpublishVolumeResponse.getDefaultInstance(); // a stale unpublish must not cut another node off
            }
            try {
                gateway.unpublish(id);
            } catch (RestGateway.RestError e) {
                if (e.status() != 404 && e.status() != 412) {
                    throw e;
                }
            }
            return ControllerUnpublishVolumeResponse.getDefaultInstance();
        }, "ControllerUnpublishVolume");
    }

    @Override
    public void controllerExpandVolume(ControllerExpandVolumeRequest req, StreamObserver<ControllerExpandVolumeResponse> out) {
        reply(out, () -> {
            String id = Args.required("volume_id", req.getVolumeId());
            if (!req.hasCapacityRange()) {
                throw Args.invalid("capacity_range", "is required");
            }
            long size = size("capacity_range", req.getCapacityRange());
            JsonNode volume = existingVolume(id);
            long have = volume.path("spec").path("size").asLong();
            boolean nodeExpansion = !(req.hasVolumeCapability() && req.getVolumeCapability().hasBlock());
            if (have >= size) {
                return ControllerExpandVolumeResponse.newBuilder().setCapacityBytes(have).setNodeExpansionRequired(nodeExpansion).build();
            }
            JsonNode grown;
            try {
                grown = gateway.resize(id, size);
            } catch (RestGateway.RestError e) {
                if (e.status() == 400 || e.status() == 422) {
                    throw Status.OUT_OF_RANGE.withDescription(e.getMessage()).asRuntimeException();
                }
                throw e;
            }
            return ControllerExpandVolumeResponse.newBuilder().setCapacityBytes(grown.path("spec").path("size").asLong(size))
                    .setNodeExpansionRequired(nodeExpansion).build();
        }, "ControllerExpandVolume");
    }

    @Override
    public void validateVolumeCapabilities(ValidateVolumeCapabilitiesRequest req, StreamObserver<ValidateVolumeCapabilitiesResponse> out) {
        reply(out, () -> {
            String id = Args.required("volume_id", req.getVolumeId());
            if (req.getVolumeCapabilitiesCount() == 0) {
                throw Args.invalid("volume_capabilities", "at least one is required");
            }
            for (int i = 0; i < req.getVolumeCapabilitiesCount(); i++) {
                Args.capability("volume_capabilities[" + i + "]", true, req.getVolumeCapabilities(i));
            }
            existingVolume(id);
            for (VolumeCapability cap : req.getVolumeCapabilitiesList()) {
                String why = Args.unsupportedAccessMode(cap);
                if (why != null) {
                    return ValidateVolumeCapabilitiesResponse.newBuilder().setMessage(why).build();
                }
            }
            if (!req.getParametersMap().isEmpty()) {
                VolumeParameters.parse(req.getParametersMap(), MAX_REPLICAS);
            }
            return ValidateVolumeCapabilitiesResponse.newBuilder().setConfirmed(ValidateVolumeCapabilitiesResponse.Confirmed.newBuilder()
                    .addAllVolumeCapabilities(req.getVolumeCapabilitiesList()).putAllVolumeContext(req.getVolumeContextMap())
                    .putAllParameters(req.getParametersMap())).build();
        }, "ValidateVolumeCapabilities");
    }

    @Override
    public void listVolumes(ListVolumesRequest req, StreamObserver<ListVolumesResponse> out) {
        reply(out, () -> {
            if (req.getMaxEntries() < 0) {
                throw Args.invalid("max_entries", "must not be negative");
            }
            RestGateway.Page page;
            try {
                page = gateway.listVolumes(req.getMaxEntries(), req.getStartingToken());
            } catch (RestGateway.RestError e) {
                if (!req.getStartingToken().isEmpty() && (e.status() == 400 || e.status() == 404 || e.status() == 422)) {
                    throw Status.ABORTED.withDescription("starting_token '" + req.getStartingToken() + "' is not valid: "
                            + e.getMessage()).asRuntimeException();
                }
                throw e;
            }
            ListVolumesResponse.Builder b = ListVolumesResponse.newBuilder().setNextToken(page.nextToken());
            for (JsonNode v : page.entries()) {
                b.addEntries(ListVolumesResponse.Entry.newBuilder().setVolume(toCsi(v, Map.of())));
            }
            return b.build();
        }, "ListVolumes");
    }

    @Override
    public void getCapacity(GetCapacityRequest req, StreamObserver<GetCapacityResponse> out) {
        reply(out, () -> {
            for (int i = 0; i < req.getVolumeCapabilitiesCount(); i++) {
                VolumeCapability cap = Args.capability("volume_capabilities[" + i + "]", true, req.getVolumeCapabilities(i));
                if (Args.unsupportedAccessMode(cap) != null) {
                    return GetCapacityResponse.newBuilder().setAvailableCapacity(0).build(); // none can be provisioned so
                }
            }
            VolumeParameters params = VolumeParameters.parse(req.getParametersMap(), MAX_REPLICAS);
            Map<String, String> segments = req.hasAccessibleTopology() ? req.getAccessibleTopology().getSegmentsMap() : Map.of();
            String csiNode = segments.get(NodeService.TOPOLOGY_CSI_NODE);
            if (csiNode != null && !csiNode.equals("javastor")) {
                return GetCapacityResponse.newBuilder().setAvailableCapacity(0).build();
            }
            String onlyNode = segments.get(NodeService.TOPOLOGY_NODE);
            Map<String, Long> freeByNode = new HashMap<>();
            long total = 0;
            for (JsonNode pool : gateway.pools()) {
                JsonNode st = pool.path("state");
                String node = st.path("node").asString(pool.path("spec").path("node").asString(""));
                if (!st.path("status").asString("").equals("Online") || (onlyNode != null && !onlyNode.equals(node))) {
                    continue;
                }
                long free = Math.max(0, st.path("capacity").asLong() - (params.thin() ? st.path("used").asLong()
                        : Math.max(st.path("used").asLong(), st.path("committed").asLong())));
                total += free;
                freeByNode.merge(node, free, Math::max);
            }
            List<Long> largest = new ArrayList<>(freeByNode.values());
            largest.sort(Comparator.reverseOrder());
            // a volume of N replicas needs N pools on different nodes: its largest size is the N-th largest per-node free space
            long max = largest.size() >= params.replicas() ? largest.get(params.replicas() - 1) : 0;
            return GetCapacityResponse.newBuilder().setAvailableCapacity(total).setMaximumVolumeSize(Int64Value.of(max)).build();
        }, "GetCapacity");
    }

    // ---------------------------------------------------------------- snapshots and clones

    /** The snapshot uuid is derived from the CO's name, so a retried CreateSnapshot finds what the first one made. */
    public static String snapshotUuid(String name) {
        return UUID.nameUUIDFromBytes(("io.javastor.csi/snapshot/" + name).getBytes(StandardCharsets.UTF_8)).toString();
    }

    /** The hidden snapshot a clone of a volume is made through: one per clone, so a retried CreateVolume finds it. */
    static String cloneSnapshotUuid(String cloneVolumeUuid) {
        return UUID.nameUUIDFromBytes(("io.javastor.csi/clone-of/" + cloneVolumeUuid).getBytes(StandardCharsets.UTF_8)).toString();
    }

    /** A content source names a snapshot or a volume, by a non-empty id: checked before anything is asked of the gateway. */
    private static void checkContentSource(csi.v1.Csi.VolumeContentSource source) {
        switch (source.getTypeCase()) {
            case SNAPSHOT -> Args.required("volume_content_source.snapshot.snapshot_id", source.getSnapshot().getSnapshotId());
            case VOLUME -> Args.required("volume_content_source.volume.volume_id", source.getVolume().getVolumeId());
            default -> throw Args.invalid("volume_content_source", "must name a snapshot or a volume");
        }
    }

    /** The snapshot a volume with this content source is restored from. */
    private static String sourceSnapshotId(String volumeUuid, csi.v1.Csi.VolumeContentSource source) {
        return switch (source.getTypeCase()) {
            case SNAPSHOT -> source.getSnapshot().getSnapshotId();
            case VOLUME -> cloneSnapshotUuid(volumeUuid);
            default -> throw Args.invalid("volume_content_source", "must name a snapshot or a volume");
        };
    }

    /**
     * A volume from a snapshot (thin clones of its replica snapshots, on the pools that hold them) or from a volume
     * (through a hidden snapshot of it, deleted once the clone exists: the pools keep what the clone shares).
     */
    private JsonNode createFrom(String uuid, String name, CreateVolumeRequest req, VolumeParameters params) {
        csi.v1.Csi.VolumeContentSource source = req.getVolumeContentSource();
        String snapshotId = sourceSnapshotId(uuid, source);
        boolean hidden = source.hasVolume();
        if (hidden) {
            String from = source.getVolume().getVolumeId();
            if (!isUuid(from) || gateway.getVolume(from).isEmpty()) {
                throw Status.NOT_FOUND.withDescription("volume_content_source.volume.volume_id: volume " + from + " does not exist").asRuntimeException();
            }
            gateway.putSnapshot(from, snapshotId);
        }
        JsonNode snap = (isUuid(snapshotId) ? gateway.getSnapshot(snapshotId) : Optional.<JsonNode>empty()).orElseThrow(() -> Status.NOT_FOUND
                .withDescription("volume_content_source.snapshot.snapshot_id: snapshot " + snapshotId + " does not exist").asRuntimeException());
        long snapSize = snap.path("definition").path("metadata").path("size").asLong();
        CapacityRange range = req.hasCapacityRange() ? req.getCapacityRange() : null;
        if (range != null && range.getLimitBytes() > 0 && range.getLimitBytes() < snapSize) {
            throw Status.OUT_OF_RANGE.withDescription("capacity_range.limit_bytes: " + range.getLimitBytes() + " is smaller than the source's "
                    + snapSize + " bytes").asRuntimeException();
        }
        long size = Math.max(snapSize, range == null ? 0 : (range.getRequiredBytes() + MIB - 1) / MIB * MIB);
        int replicas = snap.path("definition").path("metadata").path("num_snapshot_replicas").asInt();
        ObjectNode body = RestGateway.object().put("size", size).put("replicas", replicas).put("thin", true);
        body.putObject("policy").put("self_heal", true);
        JsonNode volume = gateway.putSnapshotVolume(snapshotId, uuid, body);
        if (replicas != params.replicas()) {
            volume = gateway.setReplicaCount(uuid, params.replicas()); // the StorageClass's count, rebuilt from the clones
        }
        if (hidden) {
            gateway.deleteSnapshot(snapshotId);
        }
        log.info("created volume {} ({}) from {} {}: {} bytes", uuid, name, hidden ? "volume" : "snapshot",
                hidden ? source.getVolume().getVolumeId() : snapshotId, size);
        return volume;
    }

    @Override
    public void createSnapshot(csi.v1.Csi.CreateSnapshotRequest req, StreamObserver<csi.v1.Csi.CreateSnapshotResponse> out) {
        reply(out, () -> {
            String name = Args.required("name", req.getName());
            String source = Args.required("source_volume_id", req.getSourceVolumeId());
            String id = snapshotUuid(name);
            Optional<JsonNode> existing = gateway.getSnapshot(id);
            if (existing.isPresent()) {
                String of = existing.get().path("definition").path("spec").path("source_volume").asString();
                if (!of.equals(source)) {
                    throw Status.ALREADY_EXISTS.withDescription("snapshot " + name + " exists as " + id + " of volume " + of
                            + ", not of " + source).asRuntimeException();
                }
                return csi.v1.Csi.CreateSnapshotResponse.newBuilder().setSnapshot(toCsiSnapshot(existing.get())).build();
            }
            if (!isUuid(source)) {
                throw Status.NOT_FOUND.withDescription("source_volume_id: volume " + source + " does not exist").asRuntimeException();
            }
            JsonNode snap = gateway.putSnapshot(source, id);
            log.info("created snapshot {} ({}) of volume {}", id, name, source);
            return csi.v1.Csi.CreateSnapshotResponse.newBuilder().setSnapshot(toCsiSnapshot(snap)).build();
        }, "CreateSnapshot");
    }

    @Override
    public void deleteSnapshot(csi.v1.Csi.DeleteSnapshotRequest req, StreamObserver<csi.v1.Csi.DeleteSnapshotResponse> out) {
        reply(out, () -> {
            String id = Args.required("snapshot_id", req.getSnapshotId());
            if (isUuid(id)) { // not one of ours: it cannot exist, so it is deleted
                gateway.deleteSnapshot(id);
            }
            return csi.v1.Csi.DeleteSnapshotResponse.getDefaultInstance();
        }, "DeleteSnapshot");
    }

    @Override
    public void listSnapshots(csi.v1.Csi.ListSnapshotsRequest req, StreamObserver<csi.v1.Csi.ListSnapshotsResponse> out) {
        reply(out, () -> {
            if (req.getMaxEntries() < 0) {
                throw Args.invalid("max_entries", "must not be negative");
            }
            csi.v1.Csi.ListSnapshotsResponse.Builder b = csi.v1.Csi.ListSnapshotsResponse.newBuilder();
            if (!req.getSnapshotId().isEmpty()) {
                Optional<JsonNode> one = isUuid(req.getSnapshotId()) ? gateway.getSnapshot(req.getSnapshotId()) : Optional.empty();
                one.filter(s -> req.getSourceVolumeId().isEmpty()
                                || s.path("definition").path("spec").path("source_volume").asString().equals(req.getSourceVolumeId()))
                        .ifPresent(s -> b.addEntries(csi.v1.Csi.ListSnapshotsResponse.Entry.newBuilder().setSnapshot(toCsiSnapshot(s))));
                return b.build();
            }
            if (!req.getSourceVolumeId().isEmpty() && !isUuid(req.getSourceVolumeId())) {
                return b.build(); // not one of ours: it has no snapshots
            }
            if (!req.getStartingToken().isEmpty() && !req.getStartingToken().matches("[0-9]{1,18}")) {
                throw Status.ABORTED.withDescription("starting_token '" + req.getStartingToken() + "' is not valid").asRuntimeException();
            }
            RestGateway.Page page = gateway.listSnapshots(req.getSourceVolumeId(), req.getMaxEntries(), req.getStartingToken());
            b.setNextToken(page.nextToken());
            page.entries().forEach(s -> b.addEntries(csi.v1.Csi.ListSnapshotsResponse.Entry.newBuilder().setSnapshot(toCsiSnapshot(s))));
            return b.build();
        }, "ListSnapshots");
    }

    private static csi.v1.Csi.Snapshot toCsiSnapshot(JsonNode s) {
        JsonNode meta = s.path("definition").path("metadata");
        java.time.Instant created = java.time.Instant.parse(meta.path("timestamp").asString());
        return csi.v1.Csi.Snapshot.newBuilder().setSnapshotId(s.path("definition").path("spec").path("uuid").asString())
                .setSourceVolumeId(s.path("definition").path("spec").path("source_volume").asString())
                .setSizeBytes(meta.path("size").asLong())
                .setCreationTime(com.google.protobuf.Timestamp.newBuilder().setSeconds(created.getEpochSecond()).setNanos(created.getNano()))
                .setReadyToUse(s.path("state").path("ready_as_source").asBoolean()).build();
    }

    private ObjectNode createBody(String name, long size, VolumeParameters params) {
        ObjectNode body = RestGateway.object().put("size", size).put("replicas", params.replicas()).put("thin", params.thin());
        body.putObject("policy").put("self_heal", true);
        // no volume labels: the core agent does not store them (the gateway answers 422); the name lives in the uuid
        if (!params.nodeLabels().isEmpty() || !params.poolLabels().isEmpty()) {
            ObjectNode topology = body.putObject("topology");
            if (!params.nodeLabels().isEmpty()) {
                ObjectNode inclusion = topology.putObject("node_topology").putObject("labelled").putObject("inclusion");
                params.nodeLabels().forEach(inclusion::put);
            }
            if (!params.poolLabels().isEmpty()) {
                ObjectNode inclusion = topology.putObject("pool_topology").putObject("labelled").putObject("inclusion");
                params.poolLabels().forEach(inclusion::put);
            }
        }
        return body;
    }

    /** Our volumes are reachable over NVMe-oF/TCP from every node that runs the node plugin. */
    private static Topology accessible() {
        return Topology.newBuilder().putSegments(NodeService.TOPOLOGY_CSI_NODE, "javastor").build();
    }

    private void checkTopology(CreateVolumeRequest req) {
        if (!req.hasAccessibilityRequirements() || req.getAccessibilityRequirements().getRequisiteCount() == 0) {
            return;
        }
        boolean reachable = req.getAccessibilityRequirements().getRequisiteList().stream().anyMatch(t ->
                "javastor".equals(t.getSegmentsMap().getOrDefault(NodeService.TOPOLOGY_CSI_NODE, "javastor")));
        if (!reachable) {
            throw Status.RESOURCE_EXHAUSTED.withDescription("accessibility_requirements.requisite: no topology runs the "
                    + "javastor node plugin (" + NodeService.TOPOLOGY_CSI_NODE + "=javastor)").asRuntimeException();
        }
    }

    private static Volume toCsi(JsonNode volume, Map<String, String> context) {
        JsonNode spec = volume.path("spec");
        return Volume.newBuilder().setVolumeId(spec.path("uuid").asString()).setCapacityBytes(spec.path("size").asLong())
                .putAllVolumeContext(context).addAccessibleTopology(accessible()).build();
    }

    private JsonNode existingVolume(String id) {
        Optional<JsonNode> v = isUuid(id) ? gateway.getVolume(id) : Optional.empty();
        return v.orElseThrow(() -> Status.NOT_FOUND.withDescription("volume " + id + " does not exist").asRuntimeException());
    }

    /**
     * The gateway's Volume does not name the node a target is published for, but the core agent refuses to publish
     * for another host while one is allowed (412): asking it to (idempotently) publish for this node tells.
     */
    private boolean publishedElsewhere(String id, String node) {
        ObjectNode body = RestGateway.object().put("protocol", "nvmf").put("frontend_node", node).put("reuse_existing", true);
        body.putObject("publish_context");
        try {
            gateway.publish(id, body);
            return false;
        } catch (RestGateway.RestError e) {
            if (e.status() == 412 || e.status() == 409) {
                return true;
            }
            throw e;
        }
    }

    /** The node the target is published for, when the gateway tells it (spec.target.frontend_node(s)). */
    static Optional<String> frontendNode(JsonNode volume) {
        JsonNode target = volume.path("spec").path("target");
        String single = target.path("frontend_node").asString("");
        if (!single.isEmpty()) {
            return Optional.of(single);
        }
        JsonNode nodes = target.path("frontend_nodes");
        if (nodes.isArray() && !nodes.isEmpty()) {
            JsonNode first = nodes.get(0);
            return Optional.of(first.isObject() ? first.path("name").asString("") : first.asString(""));
        }
        return Optional.empty();
    }

    /** The size to create/expand to, within the range; OUT_OF_RANGE when no MiB multiple fits. */
    private long size(String field, CapacityRange range) {
        long required = range == null ? 0 : range.getRequiredBytes();
        long limit = range == null ? 0 : range.getLimitBytes();
        if (required < 0 || limit < 0) {
            throw Args.invalid(field, "must not be negative");
        }
        if (limit > 0 && required > limit) {
            throw Status.OUT_OF_RANGE.withDescription(field + ": required_bytes " + required + " exceeds limit_bytes " + limit).asRuntimeException();
        }
        long want = required > 0 ? required : (limit > 0 ? Math.min(limit, props.getDefaultVolumeSize()) : props.getDefaultVolumeSize());
        long size = (want + MIB - 1) / MIB * MIB;
        if (limit > 0 && size > limit) {
            throw Status.OUT_OF_RANGE.withDescription(field + ": no whole MiB between " + required + " and " + limit + " bytes").asRuntimeException();
        }
        return size;
    }

    private static boolean fits(long have, CapacityRange range, long wanted) {
        if (range == null) {
            return have == wanted;
        }
        return have >= range.getRequiredBytes() && (range.getLimitBytes() == 0 || have <= range.getLimitBytes());
    }

    private static boolean isUuid(String id) {
        try {
            return UUID.fromString(id).toString().equalsIgnoreCase(id);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static <T> void reply(StreamObserver<T> out, Supplier<T> body, String call) {
        T value;
        try {
            value = body.get();
        } catch (StatusRuntimeException e) {
            out.onError(e);
            return;
        } catch (RestGateway.RestError e) {
            out.onError(map(e).withDescription(call + ": " + e.getMessage()).asRuntimeException());
            return;
        } catch (RuntimeException e) {
            log.warn("{} failed", call, e);
            out.onError(Status.INTERNAL.withDescription(call + ": " + e).asRuntimeException());
            return;
        }
        out.onNext(value);
        out.onCompleted();
    }

    /** Gateway answer to CSI code. */
    static Status map(RestGateway.RestError e) {
        return switch (e.status()) {
            case 0, 502, 503 -> Status.UNAVAILABLE;
            case 400, 422 -> Status.INVALID_ARGUMENT;
            case 404 -> Status.NOT_FOUND;
            case 409 -> "AlreadyExists".equals(e.kind()) ? Status.ALREADY_EXISTS : Status.FAILED_PRECONDITION;
            case 412 -> Status.FAILED_PRECONDITION;
            case 504 -> Status.DEADLINE_EXCEEDED;
            case 507 -> Status.RESOURCE_EXHAUSTED;
            case 401 -> Status.UNAUTHENTICATED;
            case 403 -> Status.PERMISSION_DENIED;
            default -> Status.INTERNAL;
        };
    }
}

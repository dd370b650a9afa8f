package io.javastor.core.volume;

import org.springframework.stereotype.Service;

import io.grpc.stub.StreamObserver;
import io.javastor.api.core.v1.CreateVolumeRequest;
import io.javastor.api.core.v1.DestroyVolumeRequest;
import io.javastor.api.core.v1.DestroyVolumeResponse;
import io.javastor.api.core.v1.GetVolumeRequest;
import io.javastor.api.core.v1.ListVolumesRequest;
import io.javastor.api.core.v1.ListVolumesResponse;
import io.javastor.api.core.v1.ResizeVolumeRequest;
import io.javastor.api.core.v1.SetVolumeReplicaCountRequest;
import io.javastor.api.core.v1.Volume;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.core.operation.CoreException;
import io.javastor.core.api.ProtoMapping;
import io.javastor.core.replica.ReplicaApi;
import io.javastor.core.store.OperationStatus;

@Service
public class VolumeApi extends VolumeServiceGrpc.VolumeServiceImplBase {

    private final VolumeOperations volumes;
    private final VolumeViews views;
    private final io.javastor.core.replica.StandaloneReplicas standaloneReplicas;
    private final SnapshotCounts snapshotCounts;

    /** How many snapshots a volume has (kept by the snapshot package, which depends on this one). */
    public interface SnapshotCounts {
        int of(String volumeId);

        /** Every volume's count from one read: a listing must not read the snapshots once per volume. */
        java.util.Map<String, Integer> byVolume();
    }

    public VolumeApi(VolumeOperations volumes, VolumeViews views, io.javastor.core.replica.StandaloneReplicas standaloneReplicas, SnapshotCounts snapshotCounts) {
        this.standaloneReplicas = standaloneReplicas;
        this.volumes = volumes;
        this.views = views;
        this.snapshotCounts = snapshotCounts;
    }

    @Override
    public void createVolume(CreateVolumeRequest r, StreamObserver<Volume> response) {
        // uint32/uint64 beyond Java's signed range arrive negative and fail validation by field.
        if (r.getSize() < 0) {
            throw new CoreException.InvalidArgument("size", "too large");
        }
        Topology topology = new Topology(r.getTopology().getNodeLabelsMap(), r.getTopology().getPoolLabelsMap());
        if (r.getMaxSnapshots() < 0) {
            throw new CoreException.InvalidArgument("max_snapshots", "too large");
        }
        VolumeSpec spec = new VolumeSpec(r.getUuid(), r.getSize(), r.getReplicaCount(), r.getThin(), topology,
                r.getAffinityGroup(), OperationStatus.CREATING, r.getMaxSnapshots(), "", "");
        reply(response, toProto(volumes.create(spec)));
    }

    @Override
    public void destroyVolume(DestroyVolumeRequest r, StreamObserver<DestroyVolumeResponse> response) {
        volumes.destroy(r.getUuid());
        reply(response, DestroyVolumeResponse.getDefaultInstance());
    }

    @Override
    public void getVolume(GetVolumeRequest r, StreamObserver<Volume> response) {
        reply(response, toProto(views.get(r.getUuid())));
    }

    /**
     * The latest listing and what it was built from. Building 1,000 volumes' views and messages was most of the agent's
     * CPU per listing, and pollers (the gateway's users, CSI, dashboards) ask the same page over and over while nothing
     * changes; a listing is a function of the page asked, the specs and what the nodes report, so the same request at
     * the same {@link VolumeViews.ListingVersion} gets the same answer.
     */
    private record Listing(int maxEntries, long start, VolumeViews.ListingVersion version, ListVolumesResponse answer) {}

    private final java.util.concurrent.atomic.AtomicReference<Listing> lastListing = new java.util.concurrent.atomic.AtomicReference<>();

    @Override
    public void listVolumes(ListVolumesRequest r, StreamObserver<ListVolumesResponse> response) {
        var version = views.listingVersion().orElse(null); // before the listing is built (see listingVersion)
        Listing last = lastListing.get();
        if (version != null && last != null && last.version().equals(version) && last.maxEntries() == r.getMaxEntries()
                && last.start() == r.getStartingToken()) {
            reply(response, last.answer());
            return;
        }
        // uint32/uint64 beyond Java's signed range arrive negative and fail validation by field.
        VolumeViews.Page page = views.list(r.getMaxEntries(), r.getStartingToken());
        ListVolumesResponse.Builder out = ListVolumesResponse.newBuilder();
        java.util.Map<String, Integer> counts = page.volumes().isEmpty() ? java.util.Map.of() : snapshotCounts.byVolume();
        page.volumes().forEach(v -> out.addVolumes(toProto(v, counts.getOrDefault(v.spec().uuid(), 0))));
        page.nextToken().ifPresent(out::setNextToken);
        ListVolumesResponse answer = out.build();
        if (version != null) {
            lastListing.set(new Listing(r.getMaxEntries(), r.getStartingToken(), version, answer));
        }
        reply(response, answer);
    }

    @Override
    public void getRebuildHistory(io.javastor.api.core.v1.GetRebuildHistoryRequest r,
                                  StreamObserver<io.javastor.api.core.v1.RebuildHistory> response) {
        var history = views.rebuildHistory(r.getUuid());
        var out = io.javastor.api.core.v1.RebuildHistory.newBuilder().setVolumeUuid(r.getUuid()).setNodeId(history.nodeId());
        for (var s : history.records()) {
            var record = io.javastor.api.core.v1.RebuildRecord.newBuilder().setChildUri(s.getChildUri()).setSourceUri(s.getSourceUri())
                    .setStateValue(s.getStateValue()).setPartial(s.getPartial()).setBlocksTotal(s.getBlocksTotal())
                    .setBlocksRecovered(s.getBlocksRecovered()).setBlockSize(s.getBlockSize()).setReason(s.getReason())
                    .setStartTime(ProtoMapping.timestamp(java.time.Instant.ofEpochMilli(s.getStartUnixMs())));
            if (s.getEndUnixMs() != 0) {
                record.setEndTime(ProtoMapping.timestamp(java.time.Instant.ofEpochMilli(s.getEndUnixMs())));
            }
            out.addRecords(record);
        }
        reply(response, out.build());
    }

    @Override
    public void resizeVolume(ResizeVolumeRequest r, StreamObserver<Volume> response) {
        if (r.getSize() < 0) {
            throw new CoreException.InvalidArgument("size", "too large");
        }
        reply(response, toProto(volumes.resize(r.getUuid(), r.getSize())));
    }

    @Override
    public void setVolumeMaxSnapshots(io.javastor.api.core.v1.SetVolumeMaxSnapshotsRequest r, StreamObserver<Volume> response) {
        if (r.getMaxSnapshots() < 0) {
            throw new CoreException.InvalidArgument("max_snapshots", "too large");
        }
        reply(response, toProto(volumes.setMaxSnapshots(r.getUuid(), r.getMaxSnapshots())));
    }

    @Override
    public void setVolumeReplicaCount(SetVolumeReplicaCountRequest r, StreamObserver<Volume> response) {
        reply(response, toProto(volumes.setReplicaCount(r.getUuid(), r.getReplicaCount())));
    }

    @Override
    public void publishVolume(io.javastor.api.core.v1.PublishVolumeRequest r, StreamObserver<Volume> response) {
        reply(response, toProto(r.getRepublish()
                ? volumes.republish(r.getUuid(), r.getPreferredNodeId(), "republish requested")
                : volumes.publish(r.getUuid(), r.getPreferredNodeId(), r.getAllowedHostsList())));
    }

    @Override
    public void shutdownStaleTargets(io.javastor.api.core.v1.ShutdownStaleTargetsRequest r, StreamObserver<Volume> response) {
        volumes.shutdownStaleTargets(r.getUuid());
        reply(response, toProto(views.get(r.getUuid())));
    }

    @Override
    public void reportFailedPath(io.javastor.api.core.v1.ReportFailedPathRequest r,
                                 StreamObserver<io.javastor.api.core.v1.ReportFailedPathResponse> response) {
        VolumeOperations.PathReport report = volumes.reportFailedPath(r.getUuid(), r.getFailedUri(), r.getHostNode());
        reply(response, io.javastor.api.core.v1.ReportFailedPathResponse.newBuilder().setDeviceUri(report.deviceUri())
                .setMoved(report.moved()).build());
    }

    @Override
    public void getHostSecrets(io.javastor.api.core.v1.GetHostSecretsRequest r, StreamObserver<io.javastor.api.core.v1.HostSecrets> response) {
        // A volume's target or a nexus made outside volumes (one NexusSpec per uuid), else a replica made outside volumes.
        var pair = volumes.isTargetOrNexus(r.getUuid()) ? volumes.hostSecrets(r.getUuid(), r.getHostNqn())
                : standaloneReplicas.hostSecretsOf(r.getUuid(), r.getHostNqn());
        reply(response, io.javastor.api.core.v1.HostSecrets.newBuilder().setHostSecret(pair.getHostSecret())
                .setControllerSecret(pair.getControllerSecret()).build());
    }

    @Override
    public void unpublishVolume(io.javastor.api.core.v1.UnpublishVolumeRequest r, StreamObserver<Volume> response) {
        reply(response, toProto(volumes.unpublish(r.getUuid())));
    }

    public Volume toProto(VolumeView v) {
        return toProto(v, snapshotCounts.of(v.spec().uuid()));
    }

    private Volume toProto(VolumeView v, int numSnapshots) {
        VolumeSpec s = v.spec();
        Volume.Builder b = Volume.newBuilder().setUuid(s.uuid()).setSize(s.size()).setReplicaCount(s.replicaCount())
                .setThin(s.thin()).setAffinityGroup(s.affinityGroup()).setOperation(ProtoMapping.operation(s.operation()))
                .setMaxSnapshots(s.maxSnapshots()).setNumSnapshots(numSnapshots).setContentSourceSnapshot(s.contentSource()).setContentSourceVolume(s.contentSourceVolume())
                .setTopology(io.javastor.api.core.v1.Topology.newBuilder().putAllNodeLabels(s.topology().nodeLabels())
                        .putAllPoolLabels(s.topology().poolLabels()))
                .setStatus(switch (v.status()) {
                    case ONLINE -> io.javastor.api.core.v1.VolumeStatus.VOLUME_STATUS_ONLINE;
                    case DEGRADED -> io.javastor.api.core.v1.VolumeStatus.VOLUME_STATUS_DEGRADED;
                    case FAULTED -> io.javastor.api.core.v1.VolumeStatus.VOLUME_STATUS_FAULTED;
                    case UNKNOWN -> io.javastor.api.core.v1.VolumeStatus.VOLUME_STATUS_UNKNOWN;
                });
        v.replicas().forEach(r -> b.addReplicas(ReplicaApi.toProto(r.spec(), r.present(), r.uri())));
        v.target().ifPresent(t -> b.setTarget(io.javastor.api.core.v1.VolumeTarget.newBuilder().setNodeId(t.nodeId()).setUri(t.uri())));
        return b.build();
    }

    private static <T> void reply(StreamObserver<T> response, T value) {
        response.onNext(value);
        response.onCompleted();
    }
}

package io.javastor.core.node;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.javastor.api.ioengine.v1.CreatePoolRequest;
import io.javastor.api.ioengine.v1.CreateReplicaRequest;
import io.javastor.api.ioengine.v1.DestroyPoolRequest;
import io.javastor.api.ioengine.v1.DestroyReplicaRequest;
import io.javastor.api.ioengine.v1.ImportPoolRequest;
import io.javastor.api.ioengine.v1.ListPoolsRequest;
import io.javastor.api.ioengine.v1.ListReplicasRequest;
import io.javastor.api.ioengine.v1.NexusRpcGrpc;
import io.javastor.api.ioengine.v1.NodeRpcGrpc;
import io.javastor.api.ioengine.v1.NodeInfo;
import io.javastor.api.ioengine.v1.GetNodeInfoRequest;
import io.javastor.api.ioengine.v1.Pool;
import io.javastor.api.ioengine.v1.PoolRpcGrpc;
import io.javastor.api.ioengine.v1.Replica;
import io.javastor.api.ioengine.v1.ReplicaRpcGrpc;
import io.javastor.api.ioengine.v1.ResizeReplicaRequest;
import io.javastor.core.operation.CoreException;

/**
 * One node's io-engine API, with each call's failure turned into a {@link CoreException} that names
 * the node. Every call has a deadline and is tried once: retrying is the reconcilers' job.
 */
public final class IoEngineClient {

    private final String nodeId;
    private final ManagedChannel channel;
    private final Duration deadline;

    IoEngineClient(String nodeId, ManagedChannel channel, Duration deadline) {
        this.nodeId = nodeId;
        this.channel = channel;
        this.deadline = deadline;
    }

    private NodeRpcGrpc.NodeRpcBlockingStub node() {
        return NodeRpcGrpc.newBlockingStub(channel).withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    private PoolRpcGrpc.PoolRpcBlockingStub pools() {
        return PoolRpcGrpc.newBlockingStub(channel).withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    private ReplicaRpcGrpc.ReplicaRpcBlockingStub replicas() {
        return ReplicaRpcGrpc.newBlockingStub(channel).withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    private NexusRpcGrpc.NexusRpcBlockingStub nexuses() {
        return NexusRpcGrpc.newBlockingStub(channel).withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The same node's API with another deadline per call (a quick "does it answer now?"). */
    public IoEngineClient withDeadline(Duration otherDeadline) {
        return new IoEngineClient(nodeId, channel, otherDeadline);
    }

    public NodeInfo nodeInfo() {
        return call("get node info", () -> node().getNodeInfo(GetNodeInfoRequest.getDefaultInstance()));
    }

    public Pool createPool(String name, List<String> disks, boolean eraseExisting) {
        return call("create pool " + name, () -> pools().createPool(
                CreatePoolRequest.newBuilder().setName(name).addAllDisks(disks).setEraseExisting(eraseExisting).build()));
    }

    public List<io.javastor.api.ioengine.v1.BlockDevice> listBlockDevices(boolean all) {
        return call("list block devices", () -> node().listBlockDevices(
                io.javastor.api.ioengine.v1.ListBlockDevicesRequest.newBuilder().setAll(all).build()).getDevicesList());
    }

    public Pool importPool(String name, List<String> disks) {
        return call("import pool " + name, () -> pools().importPool(
                ImportPoolRequest.newBuilder().setName(name).addAllDisks(disks).build()));
    }

    public void destroyPool(String name) {
        call("destroy pool " + name, () -> pools().destroyPool(DestroyPoolRequest.newBuilder().setName(name).build()));
    }

    public List<Pool> listPools() {
        return call("list pools", () -> pools().listPools(ListPoolsRequest.getDefaultInstance()).getPoolsList());
    }

    public Replica createReplica(String uuid, String pool, long size, boolean thin) {
        return call("create replica " + uuid, () -> replicas().createReplica(CreateReplicaRequest.newBuilder()
                .setUuid(uuid).setPool(pool).setSize(size).setThin(thin).build()));
    }

    public void destroyReplica(String uuid, String pool) {
        call("destroy replica " + uuid, () -> replicas().destroyReplica(
                DestroyReplicaRequest.newBuilder().setUuid(uuid).setPool(pool).build()));
    }

    public Replica resizeReplica(String uuid, long size) {
        return call("resize replica " + uuid, () -> replicas().resizeReplica(
                ResizeReplicaRequest.newBuilder().setUuid(uuid).setRequestedSize(size).build()));
    }

    public List<Replica> listReplicas() {
        return call("list replicas", () -> replicas().listReplicas(ListReplicasRequest.getDefaultInstance()).getReplicasList());
    }

    /** Exports the replica over NVMe-oF to the given hosts; returns its nvmf:// URI. */
    public String shareReplica(String uuid, List<String> allowedHosts) {
        return exportReplica(uuid, allowedHosts).getUri();
    }

    /**
     * Exports the replica over NVMe-oF to one host, which must authenticate with {@code secrets} (DH-HMAC-CHAP; null:
     * no authentication); returns its nvmf:// URI.
     */
    public String shareReplica(String uuid, String host, io.javastor.api.ioengine.v1.DhchapSecrets secrets) {
        var b = io.javastor.api.ioengine.v1.ShareReplicaRequest.newBuilder().setUuid(uuid)
                .setProtocol(io.javastor.api.ioengine.v1.ShareProtocol.SHARE_PROTOCOL_NVMF).addAllowedHosts(host);
        if (secrets != null) {
            b.putDhchap(host, secrets);
        }
        return call("share replica " + uuid, () -> replicas().shareReplica(b.build())).getUri();
    }

    /**
     * Exports the replica over NVMe-oF to the given hosts, each authenticating with its secrets ({@code secrets} by host
     * NQN; empty: none); returns the replica as the node now reports it.
     */
    public Replica exportReplica(String uuid, List<String> allowedHosts, java.util.Map<String, io.javastor.api.ioengine.v1.DhchapSecrets> secrets) {
        return call("share replica " + uuid, () -> replicas().shareReplica(io.javastor.api.ioengine.v1.ShareReplicaRequest.newBuilder()
                .setUuid(uuid).setProtocol(io.javastor.api.ioengine.v1.ShareProtocol.SHARE_PROTOCOL_NVMF).addAllAllowedHosts(allowedHosts)
                .putAllDhchap(secrets).build()));
    }

    /** Exports the replica over NVMe-oF to the given hosts; returns the replica as the node now reports it. */
    public Replica exportReplica(String uuid, List<String> allowedHosts) {
        return call("share replica " + uuid, () -> replicas().shareReplica(io.javastor.api.ioengine.v1.ShareReplicaRequest.newBuilder()
                .setUuid(uuid).setProtocol(io.javastor.api.ioengine.v1.ShareProtocol.SHARE_PROTOCOL_NVMF)
                .addAllAllowedHosts(allowedHosts).build()));
    }

    public Replica unshareReplica(String uuid) {
        return call("unshare replica " + uuid, () -> replicas().unshareReplica(
                io.javastor.api.ioengine.v1.UnshareReplicaRequest.newBuilder().setUuid(uuid).build()));
    }

    /** The rebuilds the nexus ran, oldest first. */
    public io.javastor.api.ioengine.v1.RebuildHistoryResponse rebuildHistory(String nexusUuid) {
        return call("rebuild history of nexus " + nexusUuid, () -> nexuses().getRebuildHistory(
                io.javastor.api.ioengine.v1.RebuildHistoryRequest.newBuilder().setUuid(nexusUuid).build()));
    }

    /** @param reservationKey the volume's target generation, which the nexus fences its children with; 0: none */
    public io.javastor.api.ioengine.v1.Nexus createNexus(String uuid, long size, List<String> children, long reservationKey) {
        return createNexus(uuid, size, children, reservationKey, java.util.Map.of());
    }

    /** As above, authenticating to remote children with {@code childSecrets} (by child URI). */
    public io.javastor.api.ioengine.v1.Nexus createNexus(String uuid, long size, List<String> children, long reservationKey,
                                                         java.util.Map<String, io.javastor.api.ioengine.v1.DhchapSecrets> childSecrets) {
        return call("create nexus " + uuid, () -> nexuses().createNexus(io.javastor.api.ioengine.v1.CreateNexusRequest.newBuilder()
                .setUuid(uuid).setSize(size).addAllChildren(children).setReservationKey(reservationKey).putAllChildDhchap(childSecrets).build()));
    }

    public io.javastor.api.ioengine.v1.Nexus publishNexus(String uuid, List<String> allowedHosts) {
        return publishNexus(uuid, allowedHosts, java.util.Map.of());
    }

    /** As above, each host authenticating with its secrets ({@code hostSecrets} by host NQN; empty: none). */
    public io.javastor.api.ioengine.v1.Nexus publishNexus(String uuid, List<String> allowedHosts,
                                                          java.util.Map<String, io.javastor.api.ioengine.v1.DhchapSecrets> hostSecrets) {
        return call("publish nexus " + uuid, () -> nexuses().publishNexus(io.javastor.api.ioengine.v1.PublishNexusRequest.newBuilder()
                .setUuid(uuid).setProtocol(io.javastor.api.ioengine.v1.ShareProtocol.SHARE_PROTOCOL_NVMF)
                .addAllAllowedHosts(allowedHosts).putAllDhchap(hostSecrets).build()));
    }

    /** Stops exporting the nexus; unpublishing one that is not published succeeds. */
    public io.javastor.api.ioengine.v1.Nexus unpublishNexus(String uuid) {
        return call("unpublish nexus " + uuid, () -> nexuses().unpublishNexus(io.javastor.api.ioengine.v1.UnpublishNexusRequest.newBuilder()
                .setUuid(uuid).build()));
    }

    /** Grows a nexus; its children must have grown first. The same size succeeds. */
    public io.javastor.api.ioengine.v1.Nexus resizeNexus(String uuid, long size) {
        return call("resize nexus " + uuid, () -> nexuses().resizeNexus(io.javastor.api.ioengine.v1.ResizeNexusRequest.newBuilder()
                .setUuid(uuid).setRequestedSize(size).build()));
    }

    /** Adds a child; the io-engine starts rebuilding it from the healthy ones. */
    public io.javastor.api.ioengine.v1.Nexus addChildNexus(String uuid, String childUri) {
        return addChildNexus(uuid, childUri, null);
    }

    /** As above, authenticating to a remote child with {@code secrets} (null: none). */
    public io.javastor.api.ioengine.v1.Nexus addChildNexus(String uuid, String childUri, io.javastor.api.ioengine.v1.DhchapSecrets secrets) {
        var b = io.javastor.api.ioengine.v1.AddChildNexusRequest.newBuilder().setUuid(uuid).setUri(childUri);
        if (secrets != null) {
            b.setDhchap(secrets);
        }
        return call("add child to nexus " + uuid, () -> nexuses().addChildNexus(b.build()));
    }

    public io.javastor.api.ioengine.v1.Nexus removeChildNexus(String uuid, String childUri) {
        return call("remove child from nexus " + uuid, () -> nexuses().removeChildNexus(io.javastor.api.ioengine.v1.RemoveChildNexusRequest.newBuilder()
                .setUuid(uuid).setUri(childUri).build()));
    }

    /** The nexuses this io-engine runs now (a restarted one runs none until the agent re-creates them). */
    public List<io.javastor.api.ioengine.v1.Nexus> listNexus() {
        return call("list nexuses", () -> nexuses().listNexus(io.javastor.api.ioengine.v1.ListNexusRequest.getDefaultInstance())).getNexusListList();
    }

    /** Unpublishes and destroys; an absent nexus is fine (the io-engine says so). */
    public void destroyNexus(String uuid) {
        call("destroy nexus " + uuid, () -> nexuses().destroyNexus(
                io.javastor.api.ioengine.v1.DestroyNexusRequest.newBuilder().setUuid(uuid).build()));
    }

    // ---------------------------------------------------------------- snapshots

    private io.javastor.api.ioengine.v1.SnapshotRpcGrpc.SnapshotRpcBlockingStub snapshots() {
        return io.javastor.api.ioengine.v1.SnapshotRpcGrpc.newBlockingStub(channel).withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    public io.javastor.api.ioengine.v1.ReplicaSnapshot createReplicaSnapshot(String replicaUuid, String snapshotUuid, String name, long txnId) {
        return call("snapshot replica " + replicaUuid, () -> snapshots().createReplicaSnapshot(
                io.javastor.api.ioengine.v1.CreateReplicaSnapshotRequest.newBuilder().setReplicaUuid(replicaUuid)
                        .setSnapshotUuid(snapshotUuid).setName(name).setTxnId(txnId).build()));
    }

    /** Deleting an absent snapshot succeeds (the io-engine says so). */
    public void destroyReplicaSnapshot(String snapshotUuid) {
        call("destroy replica snapshot " + snapshotUuid, () -> snapshots().destroyReplicaSnapshot(
                io.javastor.api.ioengine.v1.DestroyReplicaSnapshotRequest.newBuilder().setSnapshotUuid(snapshotUuid).build()));
    }

    /** The replica snapshot with that uuid on this node, if it has it. */
    public java.util.Optional<io.javastor.api.ioengine.v1.ReplicaSnapshot> replicaSnapshot(String snapshotUuid) {
        return call("list replica snapshots", () -> snapshots().listReplicaSnapshots(
                io.javastor.api.ioengine.v1.ListReplicaSnapshotsRequest.newBuilder().setSnapshotUuid(snapshotUuid).build())
                .getSnapshotsList().stream().findFirst());
    }

    /** Every replica snapshot this node has, one call (a listing of many volume snapshots asks each node once). */
    public java.util.List<io.javastor.api.ioengine.v1.ReplicaSnapshot> replicaSnapshots() {
        return call("list replica snapshots", () -> snapshots().listReplicaSnapshots(
                io.javastor.api.ioengine.v1.ListReplicaSnapshotsRequest.getDefaultInstance()).getSnapshotsList());
    }

    public Replica createSnapshotClone(String snapshotUuid, String cloneUuid) {
        return call("clone snapshot " + snapshotUuid, () -> snapshots().createSnapshotClone(
                io.javastor.api.ioengine.v1.CreateSnapshotCloneRequest.newBuilder().setSnapshotUuid(snapshotUuid).setCloneUuid(cloneUuid).build()));
    }

    public io.javastor.api.ioengine.v1.PauseNexusWritesResponse pauseNexusWrites(String uuid, Duration lease) {
        return call("pause nexus writes " + uuid, () -> nexuses().pauseNexusWrites(io.javastor.api.ioengine.v1.PauseNexusWritesRequest
                .newBuilder().setUuid(uuid).setLeaseMs((int) lease.toMillis()).build()));
    }

    /** True when the pause held from its start until now. */
    public boolean resumeNexusWrites(String uuid, long pauseId) {
        return call("resume nexus writes " + uuid, () -> nexuses().resumeNexusWrites(io.javastor.api.ioengine.v1.ResumeNexusWritesRequest
                .newBuilder().setUuid(uuid).setPauseId(pauseId).build())).getHeld();
    }

    private interface Call<T> {
        T run();
    }

    private <T> T call(String what, Call<T> call) {
        try {
            return call.run();
        } catch (StatusRuntimeException e) {
            String msg = "node " + nodeId + ": " + what + ": " + e.getStatus().getCode() + " "
                    + (e.getStatus().getDescription() == null ? "" : e.getStatus().getDescription());
            throw switch (e.getStatus().getCode()) {
                case NOT_FOUND -> new CoreException.NotFound(msg);
                case ALREADY_EXISTS -> new CoreException.AlreadyExists(msg);
                case INVALID_ARGUMENT -> new CoreException.InvalidArgument("node " + nodeId, what + ": " + e.getStatus().getDescription());
                case RESOURCE_EXHAUSTED -> new CoreException.ResourceExhausted(msg);
                case FAILED_PRECONDITION, ABORTED -> new CoreException.FailedPrecondition(msg);
                default -> new CoreException.Unavailable(msg, e);
            };
        }
    }
}

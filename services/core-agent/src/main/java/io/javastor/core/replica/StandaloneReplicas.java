package io.javastor.core.replica;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.api.nvmf.HostNqn;
import io.javastor.core.operation.CoreException;
import io.javastor.core.operation.OperationGuard;
import io.javastor.core.events.EventHistory;
import io.javastor.core.events.Severity;
import io.javastor.core.node.IoEngineConnections;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.node.NodeStatePoller;
import io.javastor.core.nvmeauth.NvmeSecrets;
import io.javastor.core.pool.PoolSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;

/**
 * Replicas a user asks for directly, outside any volume (the REST API's replica paths): create,
 * destroy, share and unshare. They are specs like volumes' replicas (volume id empty), so the
 * replica reconcilers finish or undo what a crash left half-done, and they count in placement and
 * in a pool's users. A volume's replicas are refused here: the volume owns their life and shares.
 * Each runs under the volume guard keyed by the replica's uuid, the key the reconcilers take too.
 */
public final class StandaloneReplicas {

    private static final Logger log = LoggerFactory.getLogger(StandaloneReplicas.class);
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Pattern POOL_ID = io.javastor.api.naming.ResourceIds.POOL_ID;

    private final SpecStore store;
    private final OperationGuard guard;
    private final ReplicaOperations replicas;
    private final IoEngineConnections engines;
    private final NodeRegistry registry;
    private final NodeStatePoller poller;
    private final EventHistory events;
    private final NvmeSecrets secrets;
    private final NexusChildren nexusChildren;

    /** The children of nexuses outside volumes, as a replica's destroy and unshare must see them. The nexus package answers (it depends on this one). */
    public interface NexusChildren {
        /** The first child of a nexus outside volumes, not being deleted, whose URI names the replica; only NVMe-oF children when {@code remoteOnly}. */
        Optional<NexusChild> childNaming(String replicaUuid, boolean remoteOnly);
    }

    /** A nexus child whose URI names a replica, and the nexus (on its node) that has it. */
    public record NexusChild(String nexusUuid, String nodeId, String uri) {}

    public StandaloneReplicas(SpecStore store, OperationGuard volumeGuard, ReplicaOperations replicas, IoEngineConnections engines,
                              NodeRegistry registry, NodeStatePoller poller, EventHistory events, NvmeSecrets secrets,
                              NexusChildren nexusChildren) {
        this.store = store;
        this.guard = volumeGuard;
        this.replicas = replicas;
        this.engines = engines;
        this.registry = registry;
        this.poller = poller;
        this.events = events;
        this.secrets = secrets;
        this.nexusChildren = nexusChildren;
    }

    /** Creates the replica in the pool; the same request again answers the same replica. */
    public ReplicaSpec create(String uuid, String nodeId, String poolId, long size, boolean thin) {
        requireUuid(uuid);
        if (nodeId == null || nodeId.isBlank()) {
            throw new CoreException.InvalidArgument("node_id", "must not be empty");
        }
        if (poolId == null || !POOL_ID.matcher(poolId).matches()) {
            throw new CoreException.InvalidArgument("pool_id", "must be 1-63 letters, digits, '.', '_' or '-'");
        }
        if (size <= 0) {
            throw new CoreException.InvalidArgument("size", "must be positive");
        }
        ReplicaSpec wanted = new ReplicaSpec(uuid, poolId, nodeId, size, thin, "", OperationStatus.CREATING);
        try (var held = guard.acquire(uuid, WAIT)) {
            Optional<Versioned<ReplicaSpec>> existing = store.get(ReplicaSpec.KIND, uuid);
            Versioned<ReplicaSpec> creating;
            if (existing.isPresent()) {
                ReplicaSpec have = existing.get().spec();
                if (!have.volumeId().isEmpty()) {
                    throw new CoreException.AlreadyExists("replica " + uuid + ": exists as a replica of volume " + have.volumeId());
                }
                if (!have.poolId().equals(poolId) || !have.nodeId().equals(nodeId) || have.size() != size || have.thin() != thin) {
                    throw new CoreException.AlreadyExists("replica " + uuid + ": exists with a different spec (node " + have.nodeId()
                            + ", pool " + have.poolId() + ", size " + have.size() + ", thin " + have.thin() + ")");
                }
                if (have.operation() == OperationStatus.CREATED) {
                    return have;
                }
                if (have.operation() != OperationStatus.CREATING) {
                    throw new CoreException.Conflict("replica " + uuid + ": is being deleted");
                }
                creating = existing.get();
            } else {
                PoolSpec pool = store.get(PoolSpec.KIND, poolId).map(Versioned::spec)
                        .filter(p -> p.nodeId().equals(nodeId))
                        .orElseThrow(() -> new CoreException.NotFound("pool " + poolId + " on node " + nodeId + ": not found"));
                if (pool.operation() != OperationStatus.CREATED) {
                    throw new CoreException.Conflict("pool " + poolId + ": is " + pool.operation());
                }
                requireOnline(nodeId);
                creating = replicas.intendAll(List.of(wanted)).get(0);
            }
            try {
                Versioned<ReplicaSpec> created = replicas.realize(creating);
                events.record("replica", uuid, "ReplicaCreated", Severity.INFO, "replica of " + size + " bytes created in pool "
                        + poolId + " on node " + nodeId + " (outside any volume)");
                return created.spec();
            } catch (CoreException e) {
                // Nothing half-made stays behind: undo now, or leave the spec Creating for ReplicaSpecRecovery.
                try {
                    store.get(ReplicaSpec.KIND, uuid).ifPresent(replicas::destroy);
                } catch (CoreException undo) {
                    e.addSuppressed(undo);
                    log.warn("replica create undo left to the reconciler uuid={}: {}", uuid, undo.getMessage());
                }
                throw e;
            }
        }
    }

    /**
     * Destroys a replica outside any volume; one that does not exist is fine. On a node that cannot
     * be reached now, the spec is left Deleting and the reconciler finishes when the node returns.
     * {@code nodeId}/{@code poolId}, when not empty, must be where the replica is.
     */
    public void destroy(String uuid, String nodeId, String poolId) {
        requireUuid(uuid);
        try (var held = guard.acquire(uuid, WAIT)) {
            Optional<Versioned<ReplicaSpec>> existing = store.get(ReplicaSpec.KIND, uuid);
            if (existing.isEmpty()) {
                return;
            }
            ReplicaSpec s = existing.get().spec();
            requirePlace(s, nodeId, poolId);
            requireNotOwned(s, "destroy it");
            requireNotANexusChild(s, false, "destroy it");
            if (!registry.get(s.nodeId()).map(n -> n.status().isOnline()).orElse(false)) {
                replicas.markDeleting(existing.get());
                log.warn("replica left Deleting: node not Online uuid={} nodeId={}", uuid, s.nodeId());
                return;
            }
            replicas.destroy(existing.get());
            events.record("replica", uuid, "ReplicaDestroyed", Severity.INFO, "replica destroyed in pool " + s.poolId()
                    + " on node " + s.nodeId());
        }
    }

    /**
     * Exports the replica over NVMe-oF to the hosts, which must be named: each authenticates with its own DH-HMAC-CHAP
     * pair for this replica, derived as a volume's replica links are (a nexus outside volumes on node N, whose NQN is
     * named here, gets the same pair when the replica is its child; a host connected by hand asks GetHostSecrets).
     * Returns its state with the nvmf:// URI.
     */
    public io.javastor.api.ioengine.v1.Replica share(String uuid, String nodeId, String poolId, List<String> allowedHosts) {
        requireUuid(uuid);
        HostNqn.problemNaming(allowedHosts).ifPresent(why -> {
            throw new CoreException.InvalidArgument("allowed_hosts", why);
        });
        try (var held = guard.acquire(uuid, WAIT)) {
            ReplicaSpec s = readCreated(uuid);
            requirePlace(s, nodeId, poolId);
            requireNotOwned(s, "share it");
            requireOnline(s.nodeId());
            var replica = engines.node(s.nodeId()).exportReplica(uuid, allowedHosts, secrets.forLinks(uuid, allowedHosts));
            refresh(s.nodeId(), replica);
            events.record("replica", uuid, "ReplicaShared", Severity.INFO, "shared at " + replica.getUri() + " for " + allowedHosts);
            return replica;
        }
    }

    /**
     * The secrets with which {@code hostNqn} connects to this replica's share (a host connected by hand); refused
     * unless its node reports the replica shared to that host.
     */
    public io.javastor.api.ioengine.v1.DhchapSecrets hostSecretsOf(String uuid, String hostNqn) {
        ReplicaSpec s = store.get(ReplicaSpec.KIND, uuid).map(Versioned::spec)
                .orElseThrow(() -> new CoreException.NotFound("volume, nexus or replica " + uuid + ": not found"));
        requireNotOwned(s, "ask for its host secrets");
        boolean shared = registry.get(s.nodeId()).flatMap(n -> n.replicas().stream().filter(r -> r.uuid().equals(uuid)).findFirst())
                .map(r -> r.allowedHosts().contains(hostNqn)).orElse(false);
        if (!shared) {
            throw new CoreException.PermissionDenied("replica " + uuid + " is not shared to host " + hostNqn);
        }
        var pair = secrets.forLink(uuid, hostNqn);
        return pair == null ? io.javastor.api.ioengine.v1.DhchapSecrets.getDefaultInstance() : pair;
    }

    /** Stops exporting the replica; unsharing one that is not shared succeeds. */
    public io.javastor.api.ioengine.v1.Replica unshare(String uuid, String nodeId, String poolId) {
        requireUuid(uuid);
        try (var held = guard.acquire(uuid, WAIT)) {
            ReplicaSpec s = readCreated(uuid);
            requirePlace(s, nodeId, poolId);
            requireNotOwned(s, "unshare it");
            requireNotANexusChild(s, true, "unshare it");
            requireOnline(s.nodeId());
            var replica = engines.node(s.nodeId()).unshareReplica(uuid);
            refresh(s.nodeId(), replica);
            events.record("replica", uuid, "ReplicaUnshared", Severity.INFO, "no longer shared");
            return replica;
        }
    }

    private ReplicaSpec readCreated(String uuid) {
        ReplicaSpec s = store.get(ReplicaSpec.KIND, uuid).map(Versioned::spec)
                .orElseThrow(() -> new CoreException.NotFound("replica " + uuid + ": not found"));
        if (s.operation() != OperationStatus.CREATED) {
            throw new CoreException.Conflict("replica " + uuid + ": is " + s.operation());
        }
        return s;
    }

    private static void requirePlace(ReplicaSpec s, String nodeId, String poolId) {
        boolean nodeDiffers = nodeId != null && !nodeId.isEmpty() && !nodeId.equals(s.nodeId());
        boolean poolDiffers = poolId != null && !poolId.isEmpty() && !poolId.equals(s.poolId());
        if (nodeDiffers || poolDiffers) {
            throw new CoreException.NotFound("replica " + s.uuid() + " in pool " + poolId + " on node " + nodeId + ": not found");
        }
    }

    private static void requireNotOwned(ReplicaSpec s, String what) {
        if (!s.volumeId().isEmpty()) {
            throw new CoreException.InUse("replica " + s.uuid() + ": holds data of volume " + s.volumeId() + "; only the volume may "
                    + what + " (change its replica count, or publish/unpublish it)", Map.of("volume", s.volumeId()));
        }
    }

    /**
     * A replica a nexus outside volumes uses as a child (its URI names the replica) is refused: the nexus would
     * lose the child's data or its connection. Unsharing only matters to nexuses that reach it over NVMe-oF.
     */
    private void requireNotANexusChild(ReplicaSpec s, boolean remoteOnly, String what) {
        Optional<NexusChild> child = nexusChildren.childNaming(s.uuid(), remoteOnly);
        if (child.isPresent()) {
            NexusChild c = child.get();
            throw new CoreException.InUse("replica " + s.uuid() + ": is child " + c.uri() + " of nexus " + c.nexusUuid()
                    + " on node " + c.nodeId() + "; remove the child from the nexus before you " + what, Map.of("nexus", c.nexusUuid()));
        }
    }

    private void requireOnline(String nodeId) {
        if (!registry.get(nodeId).map(n -> n.status().isOnline()).orElse(false)) {
            throw new CoreException.Unavailable("node " + nodeId + ": not Online");
        }
    }

    private void refresh(String nodeId, io.javastor.api.ioengine.v1.Replica replica) {
        try {
            poller.replicaChanged(nodeId, replica, null);
        } catch (CoreException e) {
            log.warn("state refresh after replica share change failed nodeId={}: {}", nodeId, e.getMessage());
        }
    }

    private static void requireUuid(String uuid) {
        try {
            if (uuid == null || !UUID.fromString(uuid).toString().equals(uuid.toLowerCase())) {
                throw new CoreException.InvalidArgument("uuid", "must be a UUID, got '" + uuid + "'");
            }
        } catch (IllegalArgumentException e) {
            throw new CoreException.InvalidArgument("uuid", "must be a UUID, got '" + uuid + "'");
        }
    }
}

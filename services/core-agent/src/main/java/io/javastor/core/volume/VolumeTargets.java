package io.javastor.core.volume;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.CoreException;
import io.javastor.core.OperationGuard;
import io.javastor.core.nexus.NexusOperations;
import io.javastor.core.nexus.NexusSpec;
import io.javastor.core.replica.ReplicaOperations;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;

/**
 * A volume's target: publish and unpublish, moves (asked for, after a host lost its path, off an Offline or drained
 * node), old targets shut down, and the DH-HMAC-CHAP secrets of the hosts it admits. Each runs under the volume's
 * guard; the target itself is {@link NexusOperations}'.
 */
public final class VolumeTargets {
    private static final Logger log = LoggerFactory.getLogger(VolumeTargets.class);
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final SpecStore store;
    private final OperationGuard guard;
    private final ReplicaOperations replicas;
    private final NexusOperations nexuses;
    private final VolumeViews views;

    public VolumeTargets(SpecStore store, OperationGuard volumeGuard, ReplicaOperations replicas, NexusOperations nexuses, VolumeViews views) {
        this.store = store;
        this.guard = volumeGuard;
        this.replicas = replicas;
        this.nexuses = nexuses;
        this.views = views;
    }

    /**
     * Creates the volume's target (nexus) and shares it over NVMe-oF to {@code allowedHosts}, which must be named: a
     * target open to every host would admit any initiator on the network, unauthenticated (each named host gets its
     * own DH-HMAC-CHAP pair). Publishing again succeeds with the same target; asking for another node or other hosts
     * while published is refused (unpublish first).
     */
    public VolumeView publish(String uuid, String preferredNode, List<String> allowedHosts) {
        VolumeSpec.requireUuid(uuid);
        requireHostNqns(allowedHosts);
        try (var held = guard.acquire(uuid, WAIT)) {
            Versioned<VolumeSpec> volume = VolumeSpec.readCreated(store, uuid);
            Optional<Versioned<NexusSpec>> existing = nexuses.of(uuid);
            if (existing.isPresent()) {
                NexusSpec n = existing.get().spec();
                if (n.operation() != OperationStatus.CREATED) {
                    throw new CoreException.Conflict("volume " + uuid + ": its target is " + n.operation());
                }
                if (preferredNode != null && !preferredNode.isEmpty() && !preferredNode.equals(n.nodeId())) {
                    throw new CoreException.FailedPrecondition("volume " + uuid + ": published on node " + n.nodeId()
                            + "; unpublish before publishing on " + preferredNode);
                }
                if (!n.allowedHosts().equals(allowedHosts)) {
                    throw new CoreException.FailedPrecondition("volume " + uuid + ": published for hosts " + n.allowedHosts()
                            + "; unpublish before publishing for " + allowedHosts);
                }
                return views.view(volume.spec());
            }
            nexuses.publish(uuid, volume.spec().size(), replicas.ofVolume(uuid), preferredNode, allowedHosts);
            return views.view(volume.spec());
        }
    }

    /** NVMe Base 4.7 (NQN): "nqn." and at most 223 bytes; no ',' or control characters (hosts' connect options). */
    private static void requireHostNqns(List<String> hosts) {
        if (hosts.isEmpty()) {
            throw new CoreException.InvalidArgument("allowed_hosts", "name the hosts that may connect (the CSI node plugin's"
                    + " host NQN; REST: frontend_node): a volume is never published to every host");
        }
        for (String h : hosts) {
            if (!h.startsWith("nqn.") || h.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 223 || h.indexOf(',') >= 0
                    || h.chars().anyMatch(Character::isISOControl)) {
                throw new CoreException.InvalidArgument("allowed_hosts", "'" + h + "' is not a host NQN (nqn.*, at most 223"
                        + " bytes, no ',' or control characters)");
            }
        }
    }

    /**
     * Moves the published volume's target to {@code toNode} (empty: any other eligible node), for {@code reason}
     * (see NexusOperations.move). Already there: nothing changes.
     */
    public VolumeView republish(String uuid, String toNode, String reason) {
        VolumeSpec.requireUuid(uuid);
        try (var held = guard.acquire(uuid, WAIT)) {
            Versioned<VolumeSpec> volume = VolumeSpec.readCreated(store, uuid);
            Versioned<NexusSpec> target = nexuses.of(uuid)
                    .orElseThrow(() -> new CoreException.FailedPrecondition("volume " + uuid + ": not published; publish it first"));
            if (target.spec().operation() != OperationStatus.CREATED) {
                throw new CoreException.Conflict("volume " + uuid + ": its target is " + target.spec().operation());
            }
            if (toNode != null && toNode.equals(target.spec().nodeId())) {
                return views.view(volume.spec());
            }
            nexuses.move(target, volume.spec().size(), replicas.ofVolume(uuid), toNode, reason);
            return views.view(volume.spec());
        }
    }

    /** What a host's report of a failed path did: the address to connect to now, and whether this report moved the target. */
    public record PathReport(String deviceUri, boolean moved) {}

    /**
     * The DH-HMAC-CHAP secrets with which {@code hostNqn} connects to the volume's target (for its CSI node plugin);
     * PERMISSION_DENIED unless the target admits that host.
     */
    public io.javastor.api.ioengine.v1.DhchapSecrets hostSecrets(String uuid, String hostNqn) {
        VolumeSpec.requireUuid(uuid);
        if (hostNqn == null || !hostNqn.startsWith("nqn.")) {
            throw new CoreException.InvalidArgument("host_nqn", "is required (the host's NQN, nqn.yyyy-mm.domain:name)");
        }
        VolumeSpec.readCreated(store, uuid);
        return nexuses.hostSecretsOf(uuid, hostNqn);
    }

    /**
     * A host lost its path to the volume's target (its path agent says so). If {@code failedUri} is still the volume's
     * target, the target moves to another node ({@link NexusOperations#move}: the fence makes that safe whether the
     * old one is dead, frozen or cut off); if the target moved already, nothing changes. Either way the answer is the
     * address to connect to. A repeated report of the same old address is harmless.
     */
    public PathReport reportFailedPath(String uuid, String failedUri, String hostNode) {
        VolumeSpec.requireUuid(uuid);
        if (failedUri == null || failedUri.isBlank()) {
            throw new CoreException.InvalidArgument("failed_uri", "is required (nvmf://host:port/nqn of the lost path)");
        }
        try (var held = guard.acquire(uuid, WAIT)) {
            Versioned<VolumeSpec> volume = VolumeSpec.readCreated(store, uuid);
            Versioned<NexusSpec> target = nexuses.of(uuid)
                    .orElseThrow(() -> new CoreException.FailedPrecondition("volume " + uuid + ": not published"));
            if (target.spec().operation() != OperationStatus.CREATED) {
                throw new CoreException.Conflict("volume " + uuid + ": its target is " + target.spec().operation());
            }
            if (!sameTarget(target.spec().uri(), failedUri)) {
                return new PathReport(target.spec().uri(), false);
            }
            String reason = "host " + (hostNode == null || hostNode.isBlank() ? "(unnamed)" : hostNode) + " lost its path " + failedUri;
            NexusSpec moved = nexuses.move(target, volume.spec().size(), replicas.ofVolume(uuid), "", reason);
            return new PathReport(moved.uri(), true);
        }
    }

    /**
     * For the reconcilers: moves the volume's target off {@code fromNode} if it is still there, without waiting for the
     * volume's guard. Returns false when the guard is held (come back later) or the move failed.
     */
    public boolean moveTargetOff(String uuid, String fromNode, String reason) {
        OperationGuard.Held held = guard.tryAcquire(uuid);
        if (held == null) {
            return false;
        }
        try (held) {
            var volume = store.get(VolumeSpec.KIND, uuid);
            var target = nexuses.of(uuid);
            if (volume.isEmpty() || volume.get().spec().operation() != OperationStatus.CREATED || target.isEmpty()
                    || target.get().spec().operation() != OperationStatus.CREATED || !target.get().spec().nodeId().equals(fromNode)) {
                return true;
            }
            nexuses.move(target.get(), volume.get().spec().size(), replicas.ofVolume(uuid), "", reason);
            return true;
        } catch (CoreException e) {
            log.warn("target not moved volumeId={} fromNode={} reason={}: {}", uuid, fromNode, reason, e.getMessage());
            return false;
        }
    }

    /** The same target: same address and port and the same NQN (the host may spell the URI's scheme either way). */
    private static boolean sameTarget(String current, String reported) {
        try {
            java.net.URI a = java.net.URI.create(current.strip());
            java.net.URI b = java.net.URI.create(reported.strip());
            return a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost()) && a.getPort() == b.getPort()
                    && java.util.Objects.equals(a.getPath(), b.getPath());
        } catch (IllegalArgumentException e) {
            throw new CoreException.InvalidArgument("failed_uri", "not a URI: " + reported);
        }
    }

    /** Destroys the volume's targets that are not its current one (Mayastor's shutdown_targets). Returns how many. */
    public int shutdownStaleTargets(String uuid) {
        VolumeSpec.requireUuid(uuid);
        try (var held = guard.acquire(uuid, WAIT)) {
            VolumeSpec.readCreated(store, uuid);
            return nexuses.shutdownStaleTargets(uuid, "shutdown of old targets requested");
        }
    }

    /** Removes the target; unpublishing what is not published succeeds. */
    public VolumeView unpublish(String uuid) {
        VolumeSpec.requireUuid(uuid);
        try (var held = guard.acquire(uuid, WAIT)) {
            Versioned<VolumeSpec> volume = store.get(VolumeSpec.KIND, uuid)
                    .orElseThrow(() -> new CoreException.NotFound("volume " + uuid + ": not found"));
            nexuses.of(uuid).ifPresent(nexuses::remove);
            return views.view(volume.spec());
        }
    }
}

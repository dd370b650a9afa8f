package io.javastor.core.nexus;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.api.ioengine.v1.DhchapSecrets;
import io.javastor.api.nvmf.HostNqn;
import io.javastor.core.operation.CoreException;
import io.javastor.core.operation.OperationGuard;
import io.javastor.core.events.EventHistory;
import io.javastor.core.events.Severity;
import io.javastor.core.node.IoEngineConnections;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.node.NodeSpec;
import io.javastor.core.nvmeauth.NvmeSecrets;
import io.javastor.core.replica.ReplicaSpec;
import io.javastor.core.replica.StandaloneReplicas;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;

/**
 * Nexuses a user asks for directly, outside any volume (the REST API's nexus paths): create, destroy, add and remove
 * children, share and unshare. They are specs like volume targets (volume id empty), so NexusSpecRecovery finishes or
 * undoes what a crash left half-done; the volume reconcilers leave them alone. A volume's target is refused here: the
 * volume owns it, and changing it directly would fight the volume's reconcilers. Each runs under the volume guard
 * keyed by the nexus uuid, the key a volume's operations and the nexus reconcilers take too.
 */
public final class StandaloneNexuses implements StandaloneReplicas.NexusChildren {

    private static final Logger log = LoggerFactory.getLogger(StandaloneNexuses.class);
    private static final Duration WAIT = Duration.ofSeconds(30);
    /** What the io-engine takes as a child: a local replica, or one exported over NVMe-oF. */
    private static final Pattern CHILD_URI = Pattern.compile("(bdev:///[A-Za-z0-9._:-]+|nvmf://[^/\\s]+/[^\\s]+)");

    private final SpecStore store;
    private final OperationGuard guard;
    private final NexusOperations nexuses;
    private final IoEngineConnections engines;
    private final NodeRegistry registry;
    private final EventHistory events;
    private final NvmeSecrets secrets;
    private final VolumeUuids volumes;

    /** Whether a uuid names a volume: its target takes that uuid. The volume package answers (it depends on this one). */
    public interface VolumeUuids {
        boolean isVolume(String uuid);
    }

    public StandaloneNexuses(SpecStore store, OperationGuard volumeGuard, NexusOperations nexuses, IoEngineConnections engines,
                             NodeRegistry registry, EventHistory events, NvmeSecrets secrets, VolumeUuids volumes) {
        this.store = store;
        this.guard = volumeGuard;
        this.nexuses = nexuses;
        this.engines = engines;
        this.registry = registry;
        this.events = events;
        this.secrets = secrets;
        this.volumes = volumes;
    }

    /** Creates the nexus on the node over the children; the same request again answers the same nexus (starting it again if lost). */
    public NexusSpec create(String uuid, String nodeId, long size, List<String> children) {
        requireUuid(uuid);
        requireNodeId(nodeId);
        if (size <= 0) {
            throw new CoreException.InvalidArgument("size", "must be positive");
        }
        requireChildren(children);
        try (var held = guard.acquire(uuid, WAIT)) {
            refuseVolume(uuid, "publish the volume");
            Optional<Versioned<NexusSpec>> existing = store.get(NexusSpec.KIND, uuid);
            Versioned<NexusSpec> creating;
            if (existing.isPresent()) {
                NexusSpec have = existing.get().spec();
                refuseTarget(have, "publish the volume");
                if (!have.nodeId().equals(nodeId) || have.size() != size || !new HashSet<>(have.childUris()).equals(new HashSet<>(children))) {
                    throw new CoreException.AlreadyExists("nexus " + uuid + ": exists with a different spec (node " + have.nodeId() + ", size "
                            + have.size() + ", children " + have.childUris() + ")");
                }
                if (have.operation() == OperationStatus.DELETING) {
                    throw new CoreException.Conflict("nexus " + uuid + ": is being deleted");
                }
                if (have.operation() == OperationStatus.CREATED) {
                    if (!running(nodeId, uuid)) {
                        // The node lost it (nexuses do not survive an io-engine restart): creating it again starts it again.
                        requireOnline(nodeId);
                        start(have);
                        log.info("nexus started again nexusId={} nodeId={}", uuid, nodeId);
                    }
                    return have;
                }
                creating = existing.get();
            } else {
                if (store.get(NodeSpec.KIND, nodeId).isEmpty()) {
                    throw new CoreException.NotFound("node " + nodeId + ": not found");
                }
                requireOnline(nodeId);
                creating = store.create(NexusSpec.KIND, NexusSpec.standalone(uuid, nodeId, size, children, OperationStatus.CREATING));
            }
            try {
                start(creating.spec());
                Versioned<NexusSpec> created = store.update(NexusSpec.KIND, creating, creating.spec().with(OperationStatus.CREATED, ""));
                events.record("nexus", uuid, "NexusCreated", Severity.INFO, "nexus of " + size + " bytes created on node " + nodeId
                        + " over " + children + " (outside any volume)");
                log.info("nexus created nexusId={} nodeId={} children={}", uuid, nodeId, children.size());
                return created.spec();
            } catch (CoreException e) {
                // Nothing half-made stays behind: undo now, or leave the spec Creating for NexusSpecRecovery.
                try {
                    store.get(NexusSpec.KIND, uuid).ifPresent(nexuses::remove);
                } catch (CoreException undo) {
                    e.addSuppressed(undo);
                    log.warn("nexus create undo left to the reconciler nexusId={}: {}", uuid, undo.getMessage());
                }
                throw e;
            }
        }
    }

    /**
     * Destroys a nexus outside volumes; one that does not exist is fine. On a node that cannot be reached now the
     * spec is left Deleting and NexusSpecRecovery finishes when it returns. {@code nodeId}, when not empty, must be
     * where the nexus is.
     */
    public void destroy(String uuid, String nodeId) {
        requireUuid(uuid);
        if (nodeId != null && !nodeId.isEmpty() && store.get(NodeSpec.KIND, nodeId).isEmpty()) {
            throw new CoreException.NotFound("node " + nodeId + ": not found");
        }
        try (var held = guard.acquire(uuid, WAIT)) {
            Optional<Versioned<NexusSpec>> existing = store.get(NexusSpec.KIND, uuid);
            if (existing.isEmpty()) {
                // A nexus the node runs without any spec (left by a lost agent): nothing keeps it, so it goes.
                if (nodeId != null && !nodeId.isEmpty() && running(nodeId, uuid)) {
                    engines.node(nodeId).destroyNexus(uuid);
                    nexuses.observedGone(nodeId, uuid);
                    log.info("nexus without a spec destroyed nexusId={} nodeId={}", uuid, nodeId);
                }
                return;
            }
            NexusSpec s = existing.get().spec();
            requirePlace(s, nodeId);
            refuseTarget(s, "unpublish the volume");
            if (!nexuses.remove(existing.get())) {
                log.warn("nexus left Deleting: node not Online nexusId={} nodeId={}", uuid, s.nodeId());
            }
        }
    }

    /** Adds a child (the io-engine rebuilds it from the healthy ones); one already there is fine. */
    public NexusSpec addChild(String uuid, String nodeId, String uri) {
        requireUuid(uuid);
        requireChildUri("uri", uri);
        try (var held = guard.acquire(uuid, WAIT)) {
            Versioned<NexusSpec> current = readCreated(uuid, nodeId, "change the volume's replica count");
            NexusSpec s = current.spec();
            requireOnline(s.nodeId());
            // The node first: a child it refuses changes nothing.
            nexuses.observedNow(s.nodeId(), engines.node(s.nodeId()).addChildNexus(uuid, uri,
                    childSecrets(s.nodeId(), List.of(uri)).get(uri)));
            if (s.childUris().contains(uri)) {
                return s;
            }
            List<NexusSpec.Child> children = new ArrayList<>(s.children());
            children.add(new NexusSpec.Child("", "", uri, false));
            NexusSpec next = store.update(NexusSpec.KIND, current, s.withChildren(children)).spec();
            events.record("nexus", uuid, "RebuildStarted", Severity.INFO, "child " + uri + " added to the nexus on node " + s.nodeId()
                    + "; rebuilding from the healthy children");
            log.info("nexus child added nexusId={} nodeId={} child={}", uuid, s.nodeId(), uri);
            return next;
        }
    }

    /** Removes a child (cancelling its rebuild); one not there is fine. The io-engine refuses to remove the last healthy child. */
    public NexusSpec removeChild(String uuid, String nodeId, String uri) {
        requireUuid(uuid);
        requireChildUri("uri", uri);
        try (var held = guard.acquire(uuid, WAIT)) {
            Versioned<NexusSpec> current = readCreated(uuid, nodeId, "change the volume's replica count");
            NexusSpec s = current.spec();
            if (s.childUris().equals(List.of(uri))) {
                // The io-engine would leave a nexus over nothing, failing every I/O.
                throw new CoreException.FailedPrecondition("nexus " + uuid + ": " + uri + " is its only child; destroy the nexus instead");
            }
            requireOnline(s.nodeId());
            nexuses.observedNow(s.nodeId(), engines.node(s.nodeId()).removeChildNexus(uuid, uri));
            if (!s.childUris().contains(uri)) {
                return s;
            }
            NexusSpec next = store.update(NexusSpec.KIND, current,
                    s.withChildren(s.children().stream().filter(c -> !c.uri().equals(uri)).toList())).spec();
            events.record("nexus", uuid, "NexusChildRemoved", Severity.INFO, "child " + uri + " removed from the nexus on node " + s.nodeId());
            log.info("nexus child removed nexusId={} nodeId={} child={}", uuid, s.nodeId(), uri);
            return next;
        }
    }

    /**
     * Exports the nexus over NVMe-oF to the hosts, which must be named: each authenticates with its own DH-HMAC-CHAP
     * pair for this nexus (GetHostSecrets, as for a volume's target). Sharing again succeeds.
     */
    public NexusSpec share(String uuid, String nodeId, List<String> allowedHosts) {
        requireUuid(uuid);
        HostNqn.problemNaming(allowedHosts).ifPresent(why -> {
            throw new CoreException.InvalidArgument("allowed_hosts", why);
        });
        try (var held = guard.acquire(uuid, WAIT)) {
            Versioned<NexusSpec> current = readCreated(uuid, nodeId, "publish the volume");
            NexusSpec s = current.spec();
            requireOnline(s.nodeId());
            String uri = nexuses.observedNow(s.nodeId(), engines.node(s.nodeId()).publishNexus(uuid, allowedHosts,
                    secrets.forHosts(uuid, allowedHosts))).getDeviceUri();
            if (uri.equals(s.uri()) && allowedHosts.equals(s.allowedHosts())) {
                return s;
            }
            NexusSpec next = store.update(NexusSpec.KIND, current, s.withShare(allowedHosts, uri)).spec();
            events.record("nexus", uuid, "NexusShared", Severity.INFO, "shared at " + uri + " for " + allowedHosts);
            return next;
        }
    }

    /** Stops exporting the nexus; unsharing one that is not shared succeeds. */
    public NexusSpec unshare(String uuid, String nodeId) {
        requireUuid(uuid);
        try (var held = guard.acquire(uuid, WAIT)) {
            Versioned<NexusSpec> current = readCreated(uuid, nodeId, "unpublish the volume");
            NexusSpec s = current.spec();
            requireOnline(s.nodeId());
            nexuses.observedNow(s.nodeId(), engines.node(s.nodeId()).unpublishNexus(uuid));
            if (s.uri().isEmpty()) {
                return s;
            }
            NexusSpec next = store.update(NexusSpec.KIND, current, s.withShare(List.of(), "")).spec();
            events.record("nexus", uuid, "NexusUnshared", Severity.INFO, "no longer shared");
            return next;
        }
    }

    /** Creates (idempotent at the io-engine) and, when the spec says it is shared, shares it again. */
    private void start(NexusSpec s) {
        var engine = engines.node(s.nodeId());
        // Outside volumes: no generations, no fencing.
        var made = engine.createNexus(s.uuid(), s.size(), s.childUris(), 0, childSecrets(s.nodeId(), s.childUris()));
        if (!s.uri().isEmpty()) {
            made = engine.publishNexus(s.uuid(), s.allowedHosts(), secrets.forHosts(s.uuid(), s.allowedHosts()));
        }
        nexuses.observedNow(s.nodeId(), made);
    }

    /** A replica outside volumes that one of these nexuses uses as a child is not destroyed or unshared under it. */
    @Override
    public Optional<StandaloneReplicas.NexusChild> childNaming(String replicaUuid, boolean remoteOnly) {
        for (Versioned<NexusSpec> v : store.list(NexusSpec.KIND)) {
            NexusSpec n = v.spec();
            if (n.ofVolume() || n.operation() == OperationStatus.DELETING) {
                continue;
            }
            for (NexusSpec.Child c : n.children()) {
                if (c.uri().contains(replicaUuid) && (!remoteOnly || c.uri().startsWith("nvmf"))) {
                    return Optional.of(new StandaloneReplicas.NexusChild(n.uuid(), n.nodeId(), c.uri()));
                }
            }
        }
        return Optional.empty();
    }

    private Versioned<NexusSpec> readCreated(String uuid, String nodeId, String instead) {
        Versioned<NexusSpec> v = store.get(NexusSpec.KIND, uuid)
                .orElseThrow(() -> new CoreException.NotFound("nexus " + uuid + placeSuffix(nodeId) + ": not found"));
        requirePlace(v.spec(), nodeId);
        refuseTarget(v.spec(), instead);
        if (v.spec().operation() != OperationStatus.CREATED) {
            throw new CoreException.Conflict("nexus " + uuid + ": is " + v.spec().operation());
        }
        return v;
    }

    private void refuseVolume(String uuid, String instead) {
        if (volumes.isVolume(uuid)) {
            throw inUse(uuid, instead);
        }
    }

    private static void refuseTarget(NexusSpec s, String instead) {
        if (s.ofVolume()) {
            throw inUse(s.volumeId(), instead);
        }
    }

    private static CoreException inUse(String volume, String instead) {
        return new CoreException.InUse("nexus " + volume + ": is the target of volume " + volume + "; " + instead + " instead",
                Map.of("volume", volume));
    }

    private static void requirePlace(NexusSpec s, String nodeId) {
        if (nodeId != null && !nodeId.isEmpty() && !nodeId.equals(s.nodeId())) {
            throw new CoreException.NotFound("nexus " + s.uuid() + " on node " + nodeId + ": not found");
        }
    }

    private static String placeSuffix(String nodeId) {
        return nodeId == null || nodeId.isEmpty() ? "" : " on node " + nodeId;
    }

    private boolean running(String nodeId, String uuid) {
        return registry.get(nodeId).filter(n -> n.status().isOnline()).flatMap(n -> n.nexus(uuid)).isPresent();
    }

    private void requireOnline(String nodeId) {
        if (!registry.get(nodeId).map(n -> n.status().isOnline()).orElse(false)) {
            throw new CoreException.Unavailable("node " + nodeId + ": not Online");
        }
    }

    private static void requireNodeId(String nodeId) {
        if (nodeId == null || nodeId.isBlank()) {
            throw new CoreException.InvalidArgument("node_id", "must not be empty");
        }
    }

    private static void requireChildren(List<String> children) {
        if (children == null || children.isEmpty()) {
            throw new CoreException.InvalidArgument("children", "at least one child URI is needed");
        }
        for (int i = 0; i < children.size(); i++) {
            requireChildUri("children[" + i + "]", children.get(i));
        }
        if (new HashSet<>(children).size() != children.size()) {
            throw new CoreException.InvalidArgument("children", "must not repeat a URI, got " + children);
        }
    }

    private static void requireChildUri(String field, String uri) {
        if (uri == null || !CHILD_URI.matcher(uri).matches()) {
            throw new CoreException.InvalidArgument(field, "must be bdev:///<name> or nvmf://<host:port>/<nqn>, got '" + uri + "'");
        }
    }

    static void requireUuid(String uuid) {
        try {
            if (uuid == null || !UUID.fromString(uuid).toString().equals(uuid.toLowerCase())) {
                throw new CoreException.InvalidArgument("uuid", "must be a UUID, got '" + uuid + "'");
            }
        } catch (IllegalArgumentException e) {
            throw new CoreException.InvalidArgument("uuid", "must be a UUID, got '" + uuid + "'");
        }
    }

    /**
     * The link secrets of the nvmf:// children that are replicas made outside volumes (shared with the same derived
     * secrets to this node's NQN: {@code StandaloneReplicas.share}), by URI; other children connect without.
     */
    private Map<String, DhchapSecrets> childSecrets(String nodeId, List<String> uris) {
        Map<String, DhchapSecrets> out = new java.util.HashMap<>();
        Optional<String> nodeNqn = store.get(NodeSpec.KIND, nodeId).map(v -> v.spec().nodeNqn());
        for (String uri : uris) {
            int colon = uri.lastIndexOf(':');
            if (!uri.startsWith("nvmf://") || nodeNqn.isEmpty() || colon < 0) {
                continue;
            }
            String replica = uri.substring(colon + 1);
            store.get(ReplicaSpec.KIND, replica).filter(r -> r.spec().volumeId().isEmpty())
                    .map(r -> secrets.forLink(replica, nodeNqn.get())).ifPresent(pair -> out.put(uri, pair));
        }
        return out;
    }
}

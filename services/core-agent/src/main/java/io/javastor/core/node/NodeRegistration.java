package io.javastor.core.node;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.operation.CoreException;
import io.javastor.core.operation.OperationGuard;
import io.javastor.core.events.EventHistory;
import io.javastor.core.events.Severity;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;

/**
 * Registration and heartbeat: each Register call records the node's spec (first time or when its
 * endpoints changed) and marks it Online; a node silent for the heartbeat timeout goes Offline.
 */
public final class NodeRegistration {

    private static final Logger log = LoggerFactory.getLogger(NodeRegistration.class);
    /** A node id: a DNS label-like name (it is part of the node's certificate name and NQN). */
    public static final Pattern NODE_ID = io.javastor.api.naming.ResourceIds.NODE_ID;
    private static final Pattern ENDPOINT = Pattern.compile("[^\\s:/]+:\\d{1,5}");

    /**
     * What an io-engine says about itself on every Register call.
     *
     * @param instanceId new each time the io-engine process starts; "" when it does not say
     */
    public record Registration(String nodeId, String grpcEndpoint, String nodeNqn, String nvmfEndpoint, String version,
                               Map<String, String> labels, String instanceId) {
        public Registration {
            instanceId = instanceId == null ? "" : instanceId;
        }
    }

    private final SpecStore store;
    private final NodeRegistry registry;
    private final OperationGuard guard;
    private final EventHistory events;
    private final Clock clock;
    private final Duration heartbeatTimeout;
    private final java.util.function.Consumer<String> onNodeOnline;
    /**
     * Per node, the io-engine processes (instance ids) a later process replaced while they were Online, the last
     * {@link #SUPERSEDED_KEPT}, with how often each was refused since: refused while the node is the later process's
     * (Online, beating). Two processes beating as one node (a second io-engine with the same node id, or an old pod
     * still running beside its replacement) otherwise flipped it between them on every heartbeat, each flip a
     * NodeRestarted and the inventory thrown away. Once the later process is gone (the node Offline, or silent for the
     * heartbeat timeout) an earlier one that still runs is the node again. In memory: a new leader learns it again at
     * the next flip. Guarded by the node's operation guard.
     */
    private final Map<String, java.util.LinkedHashMap<String, Integer>> superseded = new java.util.concurrent.ConcurrentHashMap<>();
    private static final int SUPERSEDED_KEPT = 16;

    public NodeRegistration(SpecStore store, NodeRegistry registry, OperationGuard nodeGuard, EventHistory events,
                            Clock clock, Duration heartbeatTimeout, java.util.function.Consumer<String> onNodeOnline) {
        this.store = store;
        this.registry = registry;
        this.guard = nodeGuard;
        this.events = events;
        this.clock = clock;
        this.heartbeatTimeout = heartbeatTimeout;
        this.onNodeOnline = onNodeOnline;
    }

    public void register(Registration r) {
        validate(r);
        try (var held = guard.acquire(r.nodeId(), Duration.ofSeconds(5))) {
            refuseSuperseded(r);
            Optional<Versioned<NodeSpec>> existing = store.get(NodeSpec.KIND, r.nodeId());
            if (existing.isEmpty()) {
                store.create(NodeSpec.KIND, new NodeSpec(r.nodeId(), r.grpcEndpoint(), r.nodeNqn(), r.nvmfEndpoint(),
                        r.version(), r.labels(), List.of(), OperationStatus.CREATED, List.of()));
                events.record("node", r.nodeId(), "NodeRegistered", Severity.INFO,
                        "node registered with io-engine at " + r.grpcEndpoint() + " version " + r.version());
            } else {
                NodeSpec old = existing.get().spec();
                Map<String, String> labels = new HashMap<>(old.labels());
                labels.putAll(r.labels());
                NodeSpec next = new NodeSpec(r.nodeId(), r.grpcEndpoint(), r.nodeNqn(), r.nvmfEndpoint(), r.version(),
                        labels, old.cordonLabels(), OperationStatus.CREATED, old.drainLabels());
                if (!next.equals(old)) {
                    store.update(NodeSpec.KIND, existing.get(), next);
                    log.info("node spec updated from registration nodeId={} endpoint={}", r.nodeId(), r.grpcEndpoint());
                }
            }
            registry.know(r.nodeId(), r.grpcEndpoint());
            Instant now = clock.instant();
            NodeStatus online = new NodeStatus.Online(now, r.instanceId());
            // Coming (back) Online, or a new process that was killed and started again before its heartbeats were
            // missed: what was observed before is stale, and the inventory is re-read before anyone trusts it.
            NodeState before = registry.update(r.nodeId(), s -> sameInstance(s.status(), r.instanceId())
                    ? s.withStatus(online)
                    : s.withStatus(online).withInventory(List.of(), List.of(), List.of(), Instant.EPOCH));
            if (before == null || !before.status().isOnline()) {
                events.record("node", r.nodeId(), "NodeOnline", Severity.INFO,
                        "node is Online (was " + (before == null ? "unknown" : describe(before.status())) + ")");
                onNodeOnline.accept(r.nodeId());
            } else if (!sameInstance(before.status(), r.instanceId())) {
                String replaced = ((NodeStatus.Online) before.status()).instance();
                if (!replaced.isEmpty() && !r.instanceId().isEmpty()) {
                    java.util.LinkedHashMap<String, Integer> gone = superseded.computeIfAbsent(r.nodeId(), k -> new java.util.LinkedHashMap<>());
                    gone.put(replaced, 0);
                    if (gone.size() > SUPERSEDED_KEPT) {
                        gone.remove(gone.keySet().iterator().next());
                    }
                }
                events.record("node", r.nodeId(), "NodeRestarted", Severity.WARNING,
                        "io-engine restarted within the heartbeat timeout (instance " + replaced
                                + " -> " + r.instanceId() + "): what it held in memory is gone");
                onNodeOnline.accept(r.nodeId());
            }
        }
    }

    /**
     * A registration from a process a later one replaced as this node, while that one is the node (Online and beating),
     * changes nothing: it is refused, saying why. Once the later one is gone, the earlier one is accepted again.
     */
    private void refuseSuperseded(Registration r) {
        java.util.LinkedHashMap<String, Integer> gone = superseded.get(r.nodeId());
        if (r.instanceId().isEmpty() || gone == null || !gone.containsKey(r.instanceId())) {
            return;
        }
        NodeStatus now = registry.get(r.nodeId()).map(NodeState::status).orElse(null);
        if (!(now instanceof NodeStatus.Online o) || o.instance().equals(r.instanceId())
                || o.lastHeartbeat().isBefore(clock.instant().minus(heartbeatTimeout))) {
            gone.remove(r.instanceId());
            return;
        }
        int refusals = gone.merge(r.instanceId(), 1, Integer::sum);
        if (Integer.bitCount(refusals) == 1) { // the 1st, 2nd, 4th, 8th...: a process beating every 2 s does not flood the log
            log.warn("registration of a superseded io-engine refused nodeId={} instance={} current={} refusals={}", r.nodeId(),
                    r.instanceId(), o.instance(), refusals);
        }
        throw new CoreException.FailedPrecondition("node " + r.nodeId() + ": io-engine instance " + r.instanceId()
                + " was replaced by a later process that registered as this node (now instance " + o.instance() + ", beating):"
                + " a restarted process's late call, or a second io-engine running with the same node id; stop the io-engine"
                + " of instance " + r.instanceId() + " (its log names it)");
    }

    /**
     * Online, and the same process as the last heartbeat. A process never changes what it sends: an io-engine that
     * sends no id is always "" (the same), and a change from none to one or back is an upgrade or a downgrade, a restart.
     */
    private static boolean sameInstance(NodeStatus s, String instanceId) {
        return s instanceof NodeStatus.Online o && o.instance().equals(instanceId);
    }

    /**
     * An orderly shutdown of the node's io-engine process {@code instanceId} ("": whichever process the node is now):
     * Offline at once, unless another process of the node has registered since (its restart overtook this call), which
     * stays Online.
     */
    public void deregister(String nodeId, String instanceId) {
        if (nodeId == null || !NODE_ID.matcher(nodeId).matches()) {
            throw new CoreException.InvalidArgument("node_id", "must be 1-63 lowercase letters, digits, '-' or '.'");
        }
        NodeState before = registry.update(nodeId, s -> laterInstance(s.status(), instanceId)
                ? s
                : s.withStatus(new NodeStatus.Offline(lastHeartbeat(s.status()), "deregistered")));
        if (before == null) {
            throw new CoreException.NotFound("node " + nodeId + ": not registered");
        }
        if (laterInstance(before.status(), instanceId)) {
            log.info("deregistration of an earlier process ignored nodeId={} instance={} online={}", nodeId, instanceId,
                    ((NodeStatus.Online) before.status()).instance());
        } else if (!(before.status() instanceof NodeStatus.Offline)) {
            events.record("node", nodeId, "NodeOffline", Severity.WARNING, "node deregistered (orderly shutdown)");
        }
    }

    /** Online as another process than the one that deregisters (which names itself). */
    private static boolean laterInstance(NodeStatus s, String deregistering) {
        return !deregistering.isEmpty() && s instanceof NodeStatus.Online o && !o.instance().equals(deregistering);
    }

    /** Marks Offline every Online node whose last heartbeat is older than the timeout; returns their ids. */
    public List<String> expireSilentNodes() {
        Instant deadline = clock.instant().minus(heartbeatTimeout);
        List<String> expired = new java.util.ArrayList<>();
        for (NodeState node : registry.all()) {
            if (node.status() instanceof NodeStatus.Online online && online.lastHeartbeat().isBefore(deadline)) {
                NodeState before = registry.update(node.nodeId(), s ->
                        s.status() instanceof NodeStatus.Online o && o.lastHeartbeat().isBefore(deadline)
                                ? s.withStatus(new NodeStatus.Offline(o.lastHeartbeat(), "missed heartbeats for " + heartbeatTimeout))
                                : s);
                if (before != null && before.status() instanceof NodeStatus.Online) {
                    expired.add(node.nodeId());
                    events.record("node", node.nodeId(), "NodeOffline", Severity.WARNING,
                            "no heartbeat since " + online.lastHeartbeat() + " (timeout " + heartbeatTimeout + ")");
                }
            }
        }
        return expired;
    }

    private static Instant lastHeartbeat(NodeStatus s) {
        if (s instanceof NodeStatus.Online o) {
            return o.lastHeartbeat();
        }
        if (s instanceof NodeStatus.Offline o) {
            return o.lastHeartbeat();
        }
        return Instant.EPOCH;
    }

    private static String describe(NodeStatus s) {
        if (s instanceof NodeStatus.Offline o) {
            return "Offline: " + o.reason();
        }
        return s.isOnline() ? "Online" : "Unknown";
    }

    private static void validate(Registration r) {
        if (r.nodeId() == null || !NODE_ID.matcher(r.nodeId()).matches()) {
            throw new CoreException.InvalidArgument("node_id", "must be 1-63 lowercase letters, digits, '-' or '.', got '" + r.nodeId() + "'");
        }
        if (r.grpcEndpoint() == null || !ENDPOINT.matcher(r.grpcEndpoint()).matches()) {
            throw new CoreException.InvalidArgument("grpc_endpoint", "must be host:port, got '" + r.grpcEndpoint() + "'");
        }
        if (r.nvmfEndpoint() != null && !r.nvmfEndpoint().isEmpty() && !ENDPOINT.matcher(r.nvmfEndpoint()).matches()) {
            throw new CoreException.InvalidArgument("nvmf_endpoint", "must be host:port, got '" + r.nvmfEndpoint() + "'");
        }
    }
}

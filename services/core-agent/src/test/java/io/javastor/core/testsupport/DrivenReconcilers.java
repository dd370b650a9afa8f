package io.javastor.core.testsupport;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import io.javastor.api.core.v1.EventServiceGrpc;
import io.javastor.api.core.v1.ListEventsRequest;
import io.javastor.api.ioengine.v1.ListNexusRequest;
import io.javastor.api.ioengine.v1.ListReplicasRequest;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.node.NodeState;
import io.javastor.core.node.NodeStatus;
import io.javastor.core.reconcile.NodeLivenessReconciler;
import io.javastor.core.reconcile.ReconcilePoller;
import io.javastor.core.reconcile.Reconciler;
import io.javastor.testsupport.IoEngineProcess;

/**
 * One cluster for the focused reconciler tests: etcd, an agent whose loop leaves out the reconcilers those tests drive
 * step by step ({@code javastor.core.reconcile.disabled}; every other reconciler runs as in production), and two
 * io-engines with a file pool each. Started by the first test class that registers it, closed when the run ends.
 * Each test makes its own volumes and replicas under fresh ids, so none depends on what another did.
 */
public final class DrivenReconcilers implements BeforeAllCallback {

    /** The reconcilers the loop leaves to the tests (their names, as the loop knows them). */
    public static final List<String> DRIVEN = List.of("orphan-replica-collector", "missing-replicas", "extra-replicas",
            "stale-target-collector", "replica-spec-recovery", "missing-nexus-recreator", "volume-spec-recovery", "nexus-spec-recovery",
            "pool-spec-recovery", "missing-nexus-child-adder", "drain-target-mover", "node-liveness", "snapshot-spec-recovery", "pool-import",
            "offline-target-mover", "lost-replica-replacer");

    /**
     * How long after its last heartbeat the agent takes a node Offline here. Generous (the auto-run fixtures use 1.5-3 s):
     * only the tests that drive the liveness check (NodeLivenessReconcilerTest, {@link #offline}) run it, and a busy
     * 2-core machine must not take a slow node Offline under them; shorter than it was (10 s), which three tests waited out.
     */
    public static final Duration HEARTBEAT_TIMEOUT = Duration.ofSeconds(5);

    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(DrivenReconcilers.class);

    /** A start that failed is not tried again by every class: they all fail with its cause. */
    private static volatile RuntimeException startFailure;

    private Running running;

    @Override
    public void beforeAll(ExtensionContext context) {
        if (startFailure != null) {
            throw new IllegalStateException("the driven-reconcilers cluster failed to start earlier", startFailure);
        }
        try {
            running = context.getRoot().getStore(NS).computeIfAbsent(Running.class, k -> Running.start(), Running.class);
        } catch (org.opentest4j.TestAbortedException skipped) {
            throw skipped; // no etcd or no io-engine jar here: skipped, with the reason printed
        } catch (RuntimeException e) {
            startFailure = e;
            throw e;
        }
    }

    public TestCluster cluster() {
        return running.cluster;
    }

    /** The agent's own instance of a driven reconciler: the one its loop would run. */
    public <R extends Reconciler> R reconciler(Class<R> type) {
        R r = running.cluster.agent().bean(ReconcilePoller.class).reconciler(type);
        if (!DRIVEN.contains(r.name())) {
            throw new IllegalArgumentException(r.name() + " runs in the loop too; add it to DrivenReconcilers.DRIVEN to drive it");
        }
        return r;
    }

    /** Whether node {@code node}'s io-engine has the replica now (asked, not the agent's view). */
    public boolean replicaOnNode(String node, String replica) {
        return cluster().node(node).api().replicas().listReplicas(ListReplicasRequest.newBuilder().setUuid(replica).build())
                .getReplicasCount() == 1;
    }

    /** Whether node {@code node}'s io-engine runs the nexus now (asked, not the agent's view). */
    public boolean nexusOnNode(String node, String nexus) {
        return cluster().node(node).api().nexuses().listNexus(ListNexusRequest.newBuilder().setUuid(nexus).build())
                .getNexusListCount() == 1;
    }

    /** Whether the agent's view of the node's inventory has the replica (what a reconciler decides from). */
    public boolean inventoryHasReplica(String node, String replica) {
        return cluster().agent().bean(NodeRegistry.class).get(node).orElseThrow().replicas().stream()
                .anyMatch(r -> r.uuid().equals(replica));
    }

    /** Whether the agent's view of the node's inventory has the nexus. */
    public boolean inventoryHasNexus(String node, String nexus) {
        return cluster().agent().bean(NodeRegistry.class).get(node).orElseThrow().nexuses().stream()
                .anyMatch(n -> n.uuid().equals(nexus));
    }

    /** How many events of this kind the agent recorded for the resource. */
    public long events(String resourceId, String kind) {
        return EventServiceGrpc.newBlockingStub(cluster().agent().channel())
                .listEvents(ListEventsRequest.newBuilder().setResourceId(resourceId).setKind(kind).build()).getTotal();
    }

    /**
     * Freezes the node's io-engine (SIGSTOP: it keeps its sockets but answers nothing and stops beating) and drives the
     * liveness check until the agent has the node Offline (the {@link #HEARTBEAT_TIMEOUT} passes first). Closing the answer
     * thaws it and waits until the node is Online again with its inventory read, so the next test finds the cluster whole.
     */
    public Thawing offline(String node) throws IOException, InterruptedException {
        IoEngineProcess engine = cluster().node(node);
        engine.freeze();
        Thawing thawing = new Thawing(node, engine);
        try {
            NodeLivenessReconciler liveness = reconciler(NodeLivenessReconciler.class);
            await(node + " Offline").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                    .until(() -> {
                        liveness.reconcile();
                        return nodeState(node).status() instanceof NodeStatus.Offline;
                    });
        } catch (RuntimeException | Error e) {
            thawing.close();
            throw e;
        }
        return thawing;
    }

    /** The agent's view of the node. */
    public NodeState nodeState(String node) {
        return cluster().agent().bean(NodeRegistry.class).get(node).orElseThrow();
    }

    /** A node {@link #offline(String)} froze: closing thaws it and waits for it to be Online with its inventory known. */
    public final class Thawing implements AutoCloseable {
        private final String node;
        private final IoEngineProcess engine;

        private Thawing(String node, IoEngineProcess engine) {
            this.node = node;
            this.engine = engine;
        }

        @Override
        public void close() throws IOException, InterruptedException {
            engine.thaw();
            await(node + " Online again").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                    .until(() -> nodeState(node).status().isOnline() && nodeState(node).inventoryKnown());
        }
    }

    static final class Running implements AutoCloseable {
        final EtcdExtension etcd = new EtcdExtension();
        TestCluster cluster;

        static Running start() {
            Running r = new Running();
            try {
                r.etcd.beforeAll(null);
                r.cluster = TestCluster.start(r.etcd.endpoint(), new TestCluster.Settings("driven", "agent-driven", Map.of(
                        "javastor.core.reconcile.disabled", String.join(",", DRIVEN),
                        // Short, so the orphan test sees the grace run out; long enough that its first sighting is not it.
                        "javastor.core.reconcile.orphan-grace", "2s",
                        "javastor.core.nodes.state-poll-interval", "300ms",
                        // Node calls as short as the other test clusters' (RunningAgent, CoreAgentProcess: 5 s; the agent's
                        // default is 10 s): a frozen node's call waits it out. Liveness as above.
                        "javastor.core.nodes.call-timeout", "5s",
                        "javastor.core.nodes.heartbeat-timeout", HEARTBEAT_TIMEOUT.toMillis() + "ms"), 2, 64, Map.of()));
            } catch (Exception | Error e) {
                try {
                    r.close();
                } catch (Exception closing) {
                    e.addSuppressed(closing);
                }
                if (e instanceof org.opentest4j.TestAbortedException skipped) {
                    throw skipped;
                }
                throw new IllegalStateException("driven-reconcilers cluster did not start", e);
            }
            return r;
        }

        @Override
        public void close() throws Exception {
            try {
                if (cluster != null) {
                    cluster.close();
                }
            } finally {
                etcd.afterAll(null);
            }
        }
    }
}

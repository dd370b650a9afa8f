package io.javastor.core.reconcile;

import java.util.List;

import io.javastor.core.node.NodeRegistration;

/** Nodes whose heartbeats stopped for the timeout go Offline. */
public final class NodeLivenessReconciler implements Reconciler {

    private final NodeRegistration registration;

    public NodeLivenessReconciler(NodeRegistration registration) {
        this.registration = registration;
    }

    @Override
    public String name() {
        return "node-liveness";
    }

    @Override
    public ReconcileOutcome reconcile() {
        List<String> expired = registration.expireSilentNodes();
        return expired.isEmpty()
                ? ReconcileOutcome.IDLE : new ReconcileOutcome.Busy("nodes went Offline: " + expired);
    }
}

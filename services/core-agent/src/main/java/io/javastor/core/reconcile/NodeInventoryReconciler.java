package io.javastor.core.reconcile;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

import io.javastor.core.node.NodeStatePoller;

/**
 * Reads every Online node's pools and replicas once per state-poll interval (observed state), and
 * at once for a node that just came Online.
 */
public final class NodeInventoryReconciler implements Reconciler {

    private final NodeStatePoller poller;
    private final Clock clock;
    private final Duration every;
    private Instant last = Instant.EPOCH;

    public NodeInventoryReconciler(NodeStatePoller poller, Clock clock, Duration every) {
        this.poller = poller;
        this.clock = clock;
        this.every = every;
    }

    @Override
    public String name() {
        return "node-inventory";
    }

    @Override
    public ReconcileOutcome reconcile() {
        Instant now = clock.instant();
        if (now.isBefore(last.plus(every))) {
            poller.pollUnobservedNodes();
            return ReconcileOutcome.IDLE;
        }
        last = now;
        poller.pollOnlineNodes();
        return ReconcileOutcome.IDLE;
    }
}

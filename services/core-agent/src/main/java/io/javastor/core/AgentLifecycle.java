package io.javastor.core;

import java.time.Duration;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

import io.javastor.core.events.EventHistory;
import io.javastor.core.events.Severity;
import io.javastor.core.leader.LeaderElection;
import io.javastor.core.leader.LeadershipChanged;
import io.javastor.core.node.IoEngineConnections;
import io.javastor.core.node.NodeCameOnline;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.node.NodeSpec;
import io.javastor.core.reconcile.ReconcilePoller;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;

/**
 * Starts campaigning once the app serves, and reacts to leadership: a new leader forgets what it
 * observed before (it may be stale) and learns the nodes from their specs, then reconciles.
 */
@Component
class AgentLifecycle {

    private static final Logger log = LoggerFactory.getLogger(AgentLifecycle.class);

    private final LeaderElection election;
    private final ReconcilePoller poller;
    private final NodeRegistry registry;
    private final SpecStore store;
    private final EventHistory events;
    private final Duration retention;
    private final IoEngineConnections connections;

    AgentLifecycle(LeaderElection election, ReconcilePoller poller, NodeRegistry registry, SpecStore store,
                   EventHistory events, CoreAgentProperties props, IoEngineConnections connections) {
        this.connections = connections;
        this.election = election;
        this.poller = poller;
        this.registry = registry;
        this.store = store;
        this.events = events;
        this.retention = props.events().retention();
    }

    @EventListener(ApplicationReadyEvent.class)
    void start() {
        poller.start();
        election.start();
    }

    @EventListener
    void leadershipChanged(LeadershipChanged change) {
        registry.clear();
        if (change.leading()) {
            for (Versioned<NodeSpec> n : store.list(NodeSpec.KIND)) {
                registry.know(n.spec().id(), n.spec().grpcEndpoint());
            }
            events.record("agent", change.agentId(), "LeaderChanged", Severity.INFO,
                    "agent " + change.agentId() + " leads (term " + change.term() + ")");
            poller.poke();
        } else {
            log.warn("stopped leading agentId={} term={}", change.agentId(), change.term());
        }
    }

    @EventListener
    void nodeCameOnline(NodeCameOnline event) {
        connections.reconnect(event.nodeId());
        poller.poke();
    }

    @Scheduled(fixedDelayString = "${javastor.core.events.retention-check-interval:PT10M}", initialDelayString = "${javastor.core.events.retention-check-interval:PT10M}")
    void applyEventRetention() {
        if (election.isLeader()) {
            events.purgeOlderThan(retention);
        }
    }
}

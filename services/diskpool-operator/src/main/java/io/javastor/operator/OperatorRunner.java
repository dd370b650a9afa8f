package io.javastor.operator;

import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.cloud.kubernetes.commons.leader.election.LeaderElectionProperties;
import org.springframework.cloud.kubernetes.commons.leader.election.events.NewLeaderEvent;
import org.springframework.cloud.kubernetes.commons.leader.election.events.StartLeadingEvent;
import org.springframework.cloud.kubernetes.commons.leader.election.events.StopLeadingEvent;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javastor.operator.control.Backoff;
import io.javastor.operator.control.LeaseElection;
import io.javastor.operator.diskpool.DiskPoolController;
import io.javastor.operator.diskpool.PoolEvents;
import io.javastor.operator.rest.PoolsApi;

/**
 * Runs the DiskPool controller on the replica that leads: it starts on Spring Cloud Kubernetes'
 * {@link StartLeadingEvent} and stops on {@link StopLeadingEvent} (or always runs, without election).
 */
public final class OperatorRunner implements SmartLifecycle {
    private static final Logger log = LoggerFactory.getLogger(OperatorRunner.class);

    private final KubernetesClient client;
    private final PoolsApi pools;
    private final Supplier<OperatorProperties> props;
    private final LeaderElectionProperties election;
    private final boolean electionEnabled;
    private final ApplicationEventPublisher publisher;
    private final String namespace;
    private final String identity;
    private volatile DiskPoolController controller;
    private volatile LeaseElection lease;
    private volatile String leader;
    private volatile boolean running;

    OperatorRunner(KubernetesClient client, PoolsApi pools, Supplier<OperatorProperties> props, LeaderElectionProperties election,
            boolean electionEnabled, ApplicationEventPublisher publisher, String namespace, String identity) {
        this.client = client;
        this.pools = pools;
        this.props = props;
        this.election = election;
        this.electionEnabled = electionEnabled;
        this.publisher = publisher;
        this.namespace = namespace;
        this.identity = identity;
    }

    @Override
    public void start() {
        running = true;
        if (!electionEnabled) {
            leader = identity;
            startController();
            return;
        }
        lease = new LeaseElection(client, election, identity, publisher);
        lease.start();
    }

    @EventListener
    void onStartLeading(StartLeadingEvent event) {
        if (identity.equals(event.candidateIdentity())) {
            startController();
        }
    }

    @EventListener
    void onStopLeading(StopLeadingEvent event) {
        if (identity.equals(event.candidateIdentity())) {
            stopController();
        }
    }

    @EventListener
    void onNewLeader(NewLeaderEvent event) {
        leader = event.candidateIdentity();
    }

    private synchronized void startController() {
        if (controller != null || !running) {
            return;
        }
        OperatorProperties p = props.get();
        DiskPoolController c = new DiskPoolController(client, namespace, pools,
                new Backoff(p.retry().initialDelay(), p.retry().maxDelay()), () -> props.get().refresh(),
                new PoolEvents(client, "javastor-diskpool-operator", identity));
        try {
            c.start();
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
        controller = c;
    }

    private synchronized void stopController() {
        if (controller != null) {
            controller.close();
            controller = null;
        }
    }

    /**
     * Leaves the election as the context starts closing: Spring Cloud Kubernetes closes its client on this same event,
     * and the Lease must be handed back (so a standby takes over at once) before that; lifecycle stop comes later.
     */
    @EventListener(ContextClosedEvent.class)
    @Order(Ordered.HIGHEST_PRECEDENCE)
    void onContextClosing() {
        stop();
    }

    @Override
    public void stop() {
        if (!running) {
            return;
        }
        running = false;
        if (lease != null) {
            lease.close();
        }
        stopController();
        log.info("diskpool operator stopped identity={}", identity);
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    public String namespace() {
        return namespace;
    }

    public String identity() {
        return identity;
    }

    /** Leading (or no election): the controller runs here. */
    public boolean active() {
        return controller != null;
    }

    public boolean watching() {
        DiskPoolController c = controller;
        return c != null && c.watching();
    }

    /** Who leads, as last announced (null until a leader is seen). */
    public String leader() {
        return leader;
    }
}

package io.javastor.operator.control;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElector;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;

/**
 * One of several replicas leads, through a coordination.k8s.io Lease (fabric8's LeaderElector): the
 * leader runs {@code onLead}; losing the lease runs {@code onLose} and joins the election again.
 */
public final class LeaseElection implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LeaseElection.class);

    private final KubernetesClient client;
    private final String namespace;
    private final String lease;
    private final String identity;
    private final Duration leaseDuration;
    private final Duration renewDeadline;
    private final Duration retryPeriod;
    private final Runnable onLead;
    private final Runnable onLose;
    private final AtomicReference<CompletableFuture<?>> running = new AtomicReference<>();
    private final AtomicReference<String> leader = new AtomicReference<>();
    private volatile boolean leading;
    private volatile boolean closed;

    public LeaseElection(KubernetesClient client, String namespace, String lease, String identity, Duration leaseDuration,
            Duration renewDeadline, Duration retryPeriod, Runnable onLead, Runnable onLose) {
        this.client = client;
        this.namespace = namespace;
        this.lease = lease;
        this.identity = identity;
        this.leaseDuration = leaseDuration;
        this.renewDeadline = renewDeadline;
        this.retryPeriod = retryPeriod;
        this.onLead = onLead;
        this.onLose = onLose;
    }

    public void start() {
        if (closed) {
            return;
        }
        LeaderElector elector = client.leaderElector().withConfig(new LeaderElectionConfigBuilder()
                .withName(lease)
                .withLock(new LeaseLock(namespace, lease, identity))
                .withLeaseDuration(leaseDuration)
                .withRenewDeadline(renewDeadline)
                .withRetryPeriod(retryPeriod)
                .withReleaseOnCancel(true)
                .withLeaderCallbacks(new LeaderCallbacks(this::lead, this::lose, this::observed))
                .build()).build();
        log.info("leader election joined lease={}/{} identity={}", namespace, lease, identity);
        CompletableFuture<?> f = elector.start();
        running.set(f);
        // The elector ends when leadership is lost (or the API cannot be reached for renewDeadline): join again.
        f.whenComplete((ok, error) -> {
            if (!closed) {
                log.info("leader election ended lease={}/{} identity={} error={}", namespace, lease, identity,
                        error == null ? "none" : error.toString());
                // After a retry period, so an elector that keeps ending at once cannot spin.
                CompletableFuture.delayedExecutor(retryPeriod.toMillis(), TimeUnit.MILLISECONDS).execute(this::start);
            }
        });
    }

    private void lead() {
        log.info("leading lease={}/{} identity={}", namespace, lease, identity);
        leading = true;
        try {
            onLead.run();
        } catch (RuntimeException e) {
            log.error("could not start leading lease={}/{} identity={}", namespace, lease, identity, e);
            leading = false;
            CompletableFuture<?> f = running.get();
            if (f != null) {
                f.cancel(true); // give the lease up; the next run of the election tries again
            }
        }
    }

    private void lose() {
        if (leading) {
            log.info("stopped leading lease={}/{} identity={}", namespace, lease, identity);
            leading = false;
            onLose.run();
        }
    }

    private void observed(String newLeader) {
        leader.set(newLeader);
        log.info("leader observed lease={}/{} leader={}", namespace, lease, newLeader);
    }

    public boolean leading() {
        return leading;
    }

    public String leader() {
        return leader.get();
    }

    public String identity() {
        return identity;
    }

    @Override
    public void close() {
        closed = true;
        CompletableFuture<?> f = running.get();
        if (f != null) {
            f.cancel(true); // releaseOnCancel: the lease is handed back at once
        }
        lose();
    }
}

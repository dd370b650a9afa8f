package io.javastor.operator.control;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.cloud.kubernetes.commons.leader.election.LeaderElectionCallbacks;
import org.springframework.cloud.kubernetes.commons.leader.election.LeaderElectionProperties;
import org.springframework.cloud.kubernetes.commons.leader.election.events.NewLeaderEvent;
import org.springframework.cloud.kubernetes.commons.leader.election.events.StartLeadingEvent;
import org.springframework.cloud.kubernetes.commons.leader.election.events.StopLeadingEvent;
import org.springframework.context.ApplicationEventPublisher;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElector;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;

/**
 * One of several replicas leads, through a coordination.k8s.io Lease: fabric8's LeaderElector, configured by Spring
 * Cloud Kubernetes' {@link LeaderElectionProperties} ({@code spring.cloud.kubernetes.leader.election.*}) and
 * announcing through Spring Cloud Kubernetes' own callbacks, so the application sees {@link StartLeadingEvent},
 * {@link StopLeadingEvent} and {@link NewLeaderEvent}.
 * <p>
 * Why not Spring Cloud Kubernetes' elector itself: its fabric8 leader module is not published for 5.x. This class is
 * what that module's initiator does (join, rejoin when leadership ends, restart after a failure if
 * {@code restart-on-failure}); once the module is published again only the dependency has to change.
 */
public final class LeaseElection implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LeaseElection.class);

    private final KubernetesClient client;
    private final LeaderElectionProperties props;
    private final String identity;
    private final Runnable onStartLeading;
    private final Runnable onStopLeading;
    private final java.util.function.Consumer<String> onNewLeader;
    private final AtomicReference<CompletableFuture<?>> running = new AtomicReference<>();
    private volatile boolean leading;
    private volatile boolean closed;

    public LeaseElection(KubernetesClient client, LeaderElectionProperties props, String identity,
            ApplicationEventPublisher publisher) {
        requireSupported(props);
        this.client = client;
        this.props = props;
        this.identity = identity;
        LeaderElectionCallbacks callbacks = new LeaderElectionCallbacks();
        this.onStartLeading = callbacks.onStartLeadingCallback(publisher, identity, props);
        this.onStopLeading = callbacks.onStopLeadingCallback(publisher, identity, props);
        this.onNewLeader = callbacks.onNewLeaderCallback(publisher, props);
    }

    /** Settings this elector does not carry out are refused at start-up rather than ignored. */
    private static void requireSupported(LeaderElectionProperties props) {
        if (!props.publishEvents()) {
            throw new IllegalArgumentException("spring.cloud.kubernetes.leader.election.publish-events=false: "
                    + "the operator starts and stops its controller on the leader-election events; it must be true");
        }
        if (props.waitForPodReady()) {
            throw new IllegalArgumentException("spring.cloud.kubernetes.leader.election.wait-for-pod-ready=true is not "
                    + "supported: a standby operator is Ready before it leads; set it to false");
        }
        if (props.useConfigMapAsLock()) {
            throw new IllegalArgumentException("spring.cloud.kubernetes.leader.election.use-config-map-as-lock=true is not "
                    + "supported: the operator's lock is a coordination.k8s.io Lease (its RBAC allows no more)");
        }
    }

    public void start() {
        if (closed) {
            return;
        }
        LeaderElector elector = client.leaderElector().withConfig(new LeaderElectionConfigBuilder()
                .withName(props.lockName())
                .withLock(new LeaseLock(props.lockNamespace(), props.lockName(), identity))
                .withLeaseDuration(props.leaseDuration())
                .withRenewDeadline(props.renewDeadline())
                .withRetryPeriod(props.retryPeriod())
                .withReleaseOnCancel(true)
                .withLeaderCallbacks(new LeaderCallbacks(this::lead, this::lose, onNewLeader::accept))
                .build()).build();
        log.info("leader election joined lease={}/{} identity={}", props.lockNamespace(), props.lockName(), identity);
        CompletableFuture<?> f = elector.start();
        running.set(f);
        f.whenComplete((ok, error) -> {
            if (closed || error instanceof CancellationException) {
                return;
            }
            if (error == null) {
                // Leadership ended (lost or not renewed in time): compete again, after a retry period so an elector
                // that keeps ending at once cannot spin.
                log.info("leader election ended lease={}/{} identity={}", props.lockNamespace(), props.lockName(), identity);
                rejoinAfter(props.retryPeriod().toMillis());
            } else if (props.restartOnFailure()) {
                log.warn("leader election failed lease={}/{} identity={}: {}; joining again in {}", props.lockNamespace(),
                        props.lockName(), identity, error.toString(), props.waitAfterRenewalFailure());
                rejoinAfter(props.waitAfterRenewalFailure().toMillis());
            } else {
                log.error("leader election failed lease={}/{} identity={}: {}; restart-on-failure=false, not joining again",
                        props.lockNamespace(), props.lockName(), identity, error.toString());
            }
        });
    }

    private void rejoinAfter(long millis) {
        CompletableFuture.delayedExecutor(millis, TimeUnit.MILLISECONDS).execute(this::start);
    }

    private void lead() {
        leading = true;
        try {
            onStartLeading.run();
        } catch (RuntimeException e) {
            log.error("could not start leading lease={}/{} identity={}", props.lockNamespace(), props.lockName(), identity, e);
            // Give the lease up (releaseOnCancel); the next run of the election tries again.
            leading = false;
            onStopLeading.run();
            CompletableFuture<?> f = running.get();
            if (f != null) {
                f.cancel(true);
                rejoinAfter(props.retryPeriod().toMillis());
            }
        }
    }

    private void lose() {
        if (leading) {
            leading = false;
            onStopLeading.run();
        }
    }

    public boolean leading() {
        return leading;
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

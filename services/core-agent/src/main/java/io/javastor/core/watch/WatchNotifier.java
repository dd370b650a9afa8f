package io.javastor.core.watch;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.operation.CoreException;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.node.NodeState;
import io.javastor.core.node.NodeStatus;
import io.javastor.core.reconcile.ReconcileOutcome;
import io.javastor.core.reconcile.Reconciler;
import io.javastor.core.store.Versioned;
import io.javastor.core.volume.VolumeViews;
import io.javastor.core.volume.VolumeView;

/**
 * Calls a watch's callback when its volume changed: each pass compares the volume's {@link VolumeFingerprint}
 * with the one the callback last heard of (stored in the watch), and calls when they differ. Runs on the leader
 * only (the reconcile poller's rule), so one agent calls. A call that fails is retried on later passes after a
 * growing delay; one call per watch at most is under way, so a dead receiver never piles calls up. A watch
 * whose volume is gone gets one last call and is removed.
 */
public final class WatchNotifier implements Reconciler, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WatchNotifier.class);
    private static final Duration FIRST_RETRY = Duration.ofSeconds(1);
    /** Up to this many watched volumes are read one by one; more, in one listing of every volume. */
    private static final int READ_ONE_BY_ONE = 8;

    private final VolumeWatches watches;
    private final VolumeViews volumes;
    private final CallbackClient client;
    private final Clock clock;
    private final Duration maxRetryDelay;
    private final Semaphore inFlight;
    private final NodeRegistry registry;
    private final Duration settle;
    private volatile Instant settleUntil;
    /** Per watch id: what this agent is doing about it. Lost with the agent, which only costs a retry's wait. */
    private final Map<String, Attempts> attempts = new ConcurrentHashMap<>();

    /**
     * @param busy      a call is under way; {@code failures} in a row so far, the next not before {@code notBefore}
     * @param delivered the fingerprint last delivered from this agent: a pass that read the watch before its
     *                  record was written must not call again for it
     */
    private record Attempts(boolean busy, int failures, Instant notBefore, String delivered) {}

    /** @param settle how long a new leader waits for the nodes of a watched volume to be heard from (their heartbeat timeout) */
    public WatchNotifier(VolumeWatches watches, VolumeViews volumes, NodeRegistry registry, WatchProperties props, Duration settle,
                         Clock clock) {
        this.registry = registry;
        this.settle = settle;
        this.settleUntil = clock.instant().plus(settle);
        this.watches = watches;
        this.volumes = volumes;
        this.client = new CallbackClient(props.callbackTimeout());
        this.clock = clock;
        this.maxRetryDelay = props.maxRetryDelay();
        this.inFlight = new Semaphore(props.maxInFlight());
    }

    @Override
    public String name() {
        return "watch-notifier";
    }

    @Override
    public ReconcileOutcome reconcile() {
        List<Versioned<WatchSpec>> all = watches.all();
        Set<String> ids = all.stream().map(w -> w.spec().id()).collect(Collectors.toSet());
        attempts.keySet().retainAll(ids);
        if (all.isEmpty()) {
            return ReconcileOutcome.IDLE;
        }
        Map<String, List<Versioned<WatchSpec>>> byVolume = all.stream()
                .collect(Collectors.groupingBy(w -> w.spec().volumeUuid(), LinkedHashMap::new, Collectors.toList()));
        Map<String, VolumeView> views = read(byVolume.keySet());
        for (var entry : byVolume.entrySet()) {
            VolumeView view = views.get(entry.getKey());
            if (view == null) {
                entry.getValue().forEach(this::volumeGone);
                continue;
            }
            if (!observed(view)) {
                continue;
            }
            String fingerprint = VolumeFingerprint.of(view);
            for (Versioned<WatchSpec> w : entry.getValue()) {
                Attempts a = attempts.get(w.spec().id());
                if (!fingerprint.equals(w.spec().notifiedFingerprint()) && (a == null || !fingerprint.equals(a.delivered()))) {
                    call(w, fingerprint);
                }
            }
        }
        return ReconcileOutcome.IDLE;
    }

    /**
     * Whether this agent has looked at the volume's nodes: a new leader starts knowing nothing, and what it sees
     * of a volume moments later (Unknown, then Faulted until each node's first poll) is a change of what it knows,
     * not of the volume. A node that has not been heard from at all is waited for only during the settle time:
     * it may be gone for good.
     */
    private boolean observed(VolumeView view) {
        boolean settling = clock.instant().isBefore(settleUntil);
        for (VolumeView.ReplicaView r : view.replicas()) {
            Optional<NodeState> node = registry.get(r.spec().nodeId());
            if (node.isEmpty()) {
                continue;
            }
            NodeStatus status = node.get().status();
            if (status.isOnline() && !node.get().inventoryKnown()) {
                return false;
            }
            if (settling && status instanceof NodeStatus.Unknown) {
                return false;
            }
        }
        return true;
    }

    /** This agent became the leader: give the nodes the settle time to be heard from before reporting their volumes. */
    public void elected() {
        settleUntil = clock.instant().plus(settle);
    }

    private Map<String, VolumeView> read(Set<String> uuids) {
        Map<String, VolumeView> out = new HashMap<>();
        if (uuids.size() > READ_ONE_BY_ONE) {
            volumes.list().stream().filter(v -> uuids.contains(v.spec().uuid())).forEach(v -> out.put(v.spec().uuid(), v));
            return out;
        }
        for (String uuid : uuids) {
            try {
                out.put(uuid, volumes.get(uuid));
            } catch (CoreException.NotFound gone) {
                // left out: the volume is gone
            }
        }
        return out;
    }

    private void call(Versioned<WatchSpec> w, String fingerprint) {
        String id = w.spec().id();
        Attempts before = attempts.getOrDefault(id, new Attempts(false, 0, Instant.EPOCH, ""));
        if (before.busy() || clock.instant().isBefore(before.notBefore())) {
            return;
        }
        if (!inFlight.tryAcquire()) {
            log.debug("callback deferred, too many under way volumeId={} callback={}", w.spec().volumeUuid(), w.spec().callback());
            return;
        }
        attempts.put(id, new Attempts(true, before.failures(), before.notBefore(), before.delivered()));
        String volumeId = w.spec().volumeUuid();
        String url = w.spec().callback();
        client.put(URI.create(url)).whenComplete((ok, error) -> {
            inFlight.release();
            if (error == null) {
                attempts.computeIfPresent(id, (k, a) -> new Attempts(false, 0, Instant.EPOCH, fingerprint));
                if (before.failures() > 0) {
                    log.info("callback reached again volumeId={} callback={} after {} failure(s)", volumeId, url, before.failures());
                }
                log.info("watch notified volumeId={} callback={}", volumeId, url);
                watches.recordNotified(w, fingerprint);
            } else {
                int failures = before.failures() + 1;
                Duration delay = retryDelay(failures);
                attempts.computeIfPresent(id, (k, a) -> new Attempts(false, failures, clock.instant().plus(delay), a.delivered()));
                Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                // The first failure is a warning; repeats of it would flood the log while a receiver stays down.
                String why = cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : ": " + cause.getMessage());
                if (failures == 1) {
                    log.warn("callback failed volumeId={} callback={}: {}; retrying every pass after {}", volumeId, url, why, delay);
                } else {
                    log.debug("callback failed again volumeId={} callback={} failures={}: {}", volumeId, url, failures, why);
                }
            }
        });
    }

    private void volumeGone(Versioned<WatchSpec> w) {
        String volumeId = w.spec().volumeUuid();
        String url = w.spec().callback();
        // One best-effort call, not retried: the watch goes with its volume.
        if (inFlight.tryAcquire()) {
            client.put(URI.create(url)).whenComplete((ok, error) -> {
                inFlight.release();
                if (error != null) {
                    log.info("last callback of a removed watch failed volumeId={} callback={}: {}", volumeId, url, error.getMessage());
                } else {
                    log.info("watch notified of its volume's removal volumeId={} callback={}", volumeId, url);
                }
            });
        }
        watches.remove(w);
    }

    private Duration retryDelay(int failures) {
        Duration d = FIRST_RETRY.multipliedBy(1L << Math.min(failures - 1, 20));
        return d.compareTo(maxRetryDelay) > 0 ? maxRetryDelay : d;
    }

    @Override
    public void close() {
        client.close();
    }
}

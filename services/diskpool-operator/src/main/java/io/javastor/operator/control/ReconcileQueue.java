package io.javastor.operator.control;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The work queue of a controller: keys of resources to reconcile, each at most once pending (the
 * earliest time wins), reconciled by one thread so a resource is never reconciled twice at once.
 * Failures in a row are counted per key and passed to the reconciler, which chooses the back-off.
 */
public final class ReconcileQueue implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ReconcileQueue.class);

    private final KeyReconciler reconciler;
    private final Backoff backoff;
    private final ScheduledExecutorService worker;
    private final Map<String, ScheduledFuture<?>> pending = new ConcurrentHashMap<>();
    private final Map<String, Integer> failures = new ConcurrentHashMap<>();

    public ReconcileQueue(String name, KeyReconciler reconciler, Backoff backoff) {
        this.reconciler = reconciler;
        this.backoff = backoff;
        this.worker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, name + "-reconcile");
            t.setDaemon(true);
            return t;
        });
    }

    /** Reconcile now (an event arrived). */
    public void enqueue(String key) {
        schedule(key, Duration.ZERO);
    }

    /** Reconcile after {@code delay}, unless it is already due sooner. */
    public synchronized void schedule(String key, Duration delay) {
        if (worker.isShutdown()) {
            return;
        }
        ScheduledFuture<?> existing = pending.get(key);
        if (existing != null && !existing.isDone() && existing.getDelay(TimeUnit.MILLISECONDS) <= delay.toMillis()) {
            return;
        }
        if (existing != null) {
            existing.cancel(false);
        }
        pending.put(key, worker.schedule(() -> run(key), delay.toMillis(), TimeUnit.MILLISECONDS));
    }

    /** The resource is gone: drop whatever was pending for it. */
    public synchronized void forget(String key) {
        ScheduledFuture<?> existing = pending.remove(key);
        if (existing != null) {
            existing.cancel(false);
        }
        failures.remove(key);
    }

    public int failures(String key) {
        return failures.getOrDefault(key, 0);
    }

    private void run(String key) {
        synchronized (this) {
            pending.remove(key);
        }
        int failed = failures.getOrDefault(key, 0);
        Outcome outcome;
        try {
            outcome = reconciler.reconcile(key, failed);
        } catch (RuntimeException e) {
            // A reconciler bug or an API server hiccup: same back-off path as any failed step.
            log.warn("reconcile failed resource={} attempt={}", key, failed + 1, e);
            outcome = new Outcome.Retry(backoff.after(failed + 1));
        }
        if (outcome instanceof Outcome.Next) {
            schedule(key, Duration.ZERO);
        } else if (outcome instanceof Outcome.RefreshAfter r) {
            failures.remove(key);
            schedule(key, r.after());
        } else if (outcome instanceof Outcome.Retry r) {
            failures.merge(key, 1, Integer::sum);
            log.info("reconcile will be retried resource={} failures={} after={}", key, failed + 1, r.after());
            schedule(key, r.after());
        } else {
            failures.remove(key);
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            worker.shutdownNow();
            pending.clear();
        }
        try {
            worker.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

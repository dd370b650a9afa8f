package io.javastor.core.reconcile;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.CoreException;

/**
 * Runs every reconciler in turn, on the leader only: on an interval, when poked (a node came
 * Online, ...), and again shortly after a pass where one answered Busy.
 */
public final class ReconcilePoller implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ReconcilePoller.class);

    private final List<Reconciler> reconcilers;
    private final BooleanSupplier isLeader;
    private final Duration interval;
    private final ScheduledExecutorService executor;
    private final AtomicBoolean pokeQueued = new AtomicBoolean();

    private final MeterRegistry meters;

    public ReconcilePoller(List<Reconciler> reconcilers, BooleanSupplier isLeader, Duration interval) {
        this(reconcilers, isLeader, interval, new SimpleMeterRegistry());
    }

    /**
     * @param meters each reconciler's step time ({@code javastor_reconcile_seconds{reconciler,outcome}}) and failures
     *               ({@code javastor_reconcile_errors_total{reconciler}}) go here
     */
    public ReconcilePoller(List<Reconciler> reconcilers, BooleanSupplier isLeader, Duration interval, MeterRegistry meters) {
        this.meters = meters;
        this.reconcilers = List.copyOf(reconcilers);
        this.isLeader = isLeader;
        this.interval = interval;
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "reconcile-poller");
            t.setDaemon(true);
            return t;
        });
    }

    public void start() {
        executor.scheduleWithFixedDelay(this::pass, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Asks for a pass soon; several pokes before it runs make one pass. */
    public void poke() {
        if (pokeQueued.compareAndSet(false, true)) {
            executor.execute(() -> {
                pokeQueued.set(false);
                pass();
            });
        }
    }

    private void pass() {
        if (!isLeader.getAsBoolean()) {
            return;
        }
        boolean busy = false;
        for (Reconciler r : reconcilers) {
            long started = System.nanoTime();
            String outcomeTag = "idle";
            try {
                ReconcileOutcome outcome = r.reconcile();
                if (outcome instanceof ReconcileOutcome.Busy b) {
                    busy = true;
                    outcomeTag = "busy";
                    log.debug("reconciler busy name={}: {}", r.name(), b.why());
                }
            } catch (CoreException e) {
                busy = true;
                outcomeTag = "error";
                meters.counter("javastor.reconcile.errors", "reconciler", r.name()).increment();
                log.warn("reconciler failed name={}: {}", r.name(), e.getMessage());
            } catch (RuntimeException e) {
                busy = true;
                outcomeTag = "error";
                meters.counter("javastor.reconcile.errors", "reconciler", r.name()).increment();
                log.error("reconciler crashed name={}", r.name(), e);
            }
            meters.timer("javastor.reconcile", "reconciler", r.name(), "outcome", outcomeTag)
                    .record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
        }
        if (busy) {
            executor.schedule(this::poke, Math.max(100, interval.toMillis() / 4), TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}

package io.javastor.core.reconcile;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.operation.CoreException;

/**
 * Runs every reconciler in turn, on the leader only: on an interval, when poked (a node came
 * Online, ...), and again shortly after a pass where one answered Busy.
 */
public final class ReconcilePoller implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ReconcilePoller.class);

    private final List<Reconciler> reconcilers;
    private final Set<String> disabled;
    private final BooleanSupplier isLeader;
    private final Duration interval;
    private final ScheduledExecutorService executor;
    private final AtomicBoolean pokeQueued = new AtomicBoolean();

    private final MeterRegistry meters;

    /**
     * @param disabled names of reconcilers the loop leaves out ({@code javastor.core.reconcile.disabled}); a name that
     *                 is not one of {@code reconcilers} is refused, since a typo would silently leave the loop whole
     * @param meters   each reconciler's step time ({@code javastor_reconcile_seconds{reconciler,outcome}}) and failures
     *                 ({@code javastor_reconcile_errors_total{reconciler}}) go here
     */
    public ReconcilePoller(List<Reconciler> reconcilers, Set<String> disabled, BooleanSupplier isLeader, Duration interval,
                           MeterRegistry meters) {
        List<String> names = reconcilers.stream().map(Reconciler::name).toList();
        for (String name : disabled) {
            if (!names.contains(name)) {
                throw new IllegalArgumentException("javastor.core.reconcile.disabled names '" + name
                        + "', which is not a reconciler; the reconcilers are " + String.join(", ", names));
            }
        }
        if (!disabled.isEmpty()) {
            log.warn("reconcilers left out of the loop (javastor.core.reconcile.disabled): {}", disabled);
        }
        this.meters = meters;
        this.reconcilers = List.copyOf(reconcilers);
        this.disabled = Set.copyOf(disabled);
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
            if (disabled.contains(r.name())) {
                continue;
            }
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

    /** Every reconciler in the order of a pass, the disabled ones included (a test drives those itself). */
    public List<Reconciler> reconcilers() {
        return reconcilers;
    }

    /** The reconciler of this type (the one instance the loop runs, or would run were it not disabled). */
    public <R extends Reconciler> R reconciler(Class<R> type) {
        return reconcilers.stream().filter(type::isInstance).map(type::cast).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no " + type.getSimpleName() + " in the loop"));
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}

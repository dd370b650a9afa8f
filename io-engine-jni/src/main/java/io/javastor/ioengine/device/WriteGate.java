package io.javastor.ioengine.device;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Lets a device's writes be paused for a point-in-time operation (a snapshot): while paused, new writes wait (they do
 * not fail) and the pause completes once every write admitted before it has completed. Lock-free on the write path:
 * a write counts itself in first and then looks at the gate, so a pause never misses one.
 *
 * <p>Use: {@code CompletableFuture<Void> wait = gate.admit(); if (wait != null) retry after wait; ... gate.done()} when
 * the admitted write completes.
 */
public final class WriteGate {
    private final AtomicInteger inFlight = new AtomicInteger();
    /** Non-null while paused: what held-back writes wait for. */
    private volatile CompletableFuture<Void> gate;
    private volatile CompletableFuture<Void> drained;

    /** Admits a write (returns null; call {@link #done()} when it completes) or returns what it must wait for first. */
    public CompletableFuture<Void> admit() {
        inFlight.incrementAndGet();
        CompletableFuture<Void> g = gate;
        if (g != null) {
            done();
        }
        return g;
    }

    /** An admitted write completed. */
    public void done() {
        if (inFlight.decrementAndGet() == 0) {
            CompletableFuture<Void> d = drained;
            if (d != null) {
                d.complete(null);
            }
        }
    }

    /** Holds new writes back; completes when the writes admitted before have completed. Follow with {@link #resume()}. */
    public CompletableFuture<Void> pause() {
        CompletableFuture<Void> d = new CompletableFuture<>();
        gate = new CompletableFuture<>();
        drained = d;
        if (inFlight.get() == 0) {
            d.complete(null);
        }
        return d;
    }

    /** Lets held-back writes go (in the order they came), on this thread. */
    public void resume() {
        stopHolding().run();
    }

    /**
     * Stops holding new writes back and returns what lets the ones held so far go (in the order they came). Those start
     * on the thread that runs it: a caller that ends the pause under a lock runs it after leaving the lock.
     */
    public Runnable stopHolding() {
        CompletableFuture<Void> g = gate;
        gate = null;
        drained = null;
        return g == null ? () -> { } : () -> g.complete(null);
    }

    public boolean isPaused() {
        return gate != null;
    }
}

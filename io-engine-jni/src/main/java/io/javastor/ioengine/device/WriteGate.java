package io.javastor.ioengine.device;

import java.util.concurrent.CompletableFuture;

/**
 * Lets a device's writes be paused for a point-in-time operation (a snapshot): while paused, new writes wait (they do
 * not fail) and the pause completes once every write admitted before it has completed. Lock-free on the write path:
 * a write counts itself in first and then looks at the gate, so a pause never misses one.
 *
 * <p>Use: {@code int w = gate.admit(); if (w == WriteGate.HELD) retry after gate.whenOpen(); ... gate.done(w)} when
 * the admitted write completes.
 */
public final class WriteGate {
    /** What {@link #admit()} answers for a write held back. */
    public static final int HELD = -1;

    private final InFlightCount inFlight = new InFlightCount();
    /** Non-null while paused: what held-back writes wait for. */
    private volatile CompletableFuture<Void> gate;
    private volatile CompletableFuture<Void> drained;

    /**
     * Admits a write: its ticket, to give to {@link #done(int)} when it completes; or {@link #HELD} while paused, and
     * then the write waits for {@link #whenOpen()} and asks again.
     */
    public int admit() {
        int ticket = inFlight.begin();
        if (gate != null) {
            done(ticket);
            return HELD;
        }
        return ticket;
    }

    /** What a held-back write waits for before it asks again: done at once when no pause holds writes any more. */
    public CompletableFuture<Void> whenOpen() {
        CompletableFuture<Void> g = gate;
        return g != null ? g : CompletableFuture.completedFuture(null);
    }

    /** The write admitted with this ticket completed. */
    public void done(int ticket) {
        if (ticket < 0) {
            throw new IllegalArgumentException("not a write-gate ticket: " + ticket);
        }
        inFlight.end(ticket);
        CompletableFuture<Void> d = drained;
        if (d != null && inFlight.sum() == 0) {
            d.complete(null);
        }
    }

    /** Holds new writes back; completes when the writes admitted before have completed. Follow with {@link #resume()}. */
    public CompletableFuture<Void> pause() {
        CompletableFuture<Void> d = new CompletableFuture<>();
        gate = new CompletableFuture<>();
        drained = d;
        if (inFlight.sum() == 0) {
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

package io.javastor.ioengine.reservation;

import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One host's way to a namespace under reservations: it admits or refuses each of the host's commands and counts the
 * writes it admitted until they complete, so that a preempt can wait for them. The count goes up before the check
 * reads the reservations and the preempt publishes the new reservations before it reads the count (both sequentially
 * consistent), so either the write sees the preempt and is refused, or the preempt sees the write and waits for it:
 * once a Preempt completed, no write of a preempted host is on its way to the device.
 */
public final class HostAccess {
    private final NamespaceReservations reservations;
    private final UUID hostId;
    private final AtomicInteger writesInFlight = new AtomicInteger();
    private volatile CompletableFuture<Void> idleWaiter;

    HostAccess(NamespaceReservations reservations, UUID hostId) {
        this.reservations = reservations;
        this.hostId = hostId;
    }

    public UUID hostId() {
        return hostId;
    }

    /** Admits a write-group command (it must then call {@link #endWrite()}), or refuses it with a conflict. */
    public boolean beginWrite() {
        writesInFlight.incrementAndGet();
        if (reservations.status().mayWrite(hostId)) {
            return true;
        }
        endWrite();
        return false;
    }

    public void endWrite() {
        if (writesInFlight.decrementAndGet() == 0) {
            CompletableFuture<Void> w = idleWaiter;
            if (w != null) {
                w.complete(null);
            }
        }
    }

    public boolean mayRead() {
        return reservations.status().mayRead(hostId);
    }

    /** Completes when none of the writes this host was admitted to is in flight any more. */
    synchronized CompletableFuture<Void> writesDrained() {
        CompletableFuture<Void> w = idleWaiter;
        if (w == null || w.isDone()) {
            w = new CompletableFuture<>();
            idleWaiter = w;
        }
        if (writesInFlight.get() == 0) {
            w.complete(null);
        }
        return w;
    }
}

package io.javastor.core.store;

import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * etcd's current revision for callers that need one read at least as new as their call (a linearizable read), shared:
 * a caller arriving while a read is on its way cannot use that one (it may have been answered before the caller's
 * moment), so it waits for the next, which starts when the one on its way is answered and serves every caller that
 * arrived meanwhile. Under N concurrent API reads etcd sees about one revision read per round trip, not N.
 */
final class CurrentRevision {

    private final Supplier<CompletableFuture<Long>> read;
    private CompletableFuture<Long> onItsWay;
    private CompletableFuture<Long> next;

    CurrentRevision(Supplier<CompletableFuture<Long>> read) {
        this.read = read;
    }

    /** A revision read that starts no earlier than this call. */
    synchronized CompletableFuture<Long> get() {
        if (onItsWay == null) {
            return launch();
        }
        if (next == null) {
            next = new CompletableFuture<>();
        }
        return next;
    }

    /** Starts a read; called with the lock held. */
    private CompletableFuture<Long> launch() {
        CompletableFuture<Long> f;
        try {
            f = read.get();
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        onItsWay = f;
        CompletableFuture<Long> launched = f;
        f.whenComplete((r, e) -> answered(launched));
        return f;
    }

    private synchronized void answered(CompletableFuture<Long> which) {
        if (onItsWay != which) {
            return;
        }
        onItsWay = null;
        CompletableFuture<Long> waiting = next;
        next = null;
        if (waiting != null) {
            launch().whenComplete((r, e) -> {
                if (e != null) {
                    waiting.completeExceptionally(e);
                } else {
                    waiting.complete(r);
                }
            });
        }
    }
}

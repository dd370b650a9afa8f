package io.javastor.ioengine.nexus;

import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * Where a nexus records that a child stopped being in sync, and that a rebuilt one is in sync again. A nexus
 * acknowledges no write a faulted child missed until {@link #childFaulted} has completed: after a crash the
 * control plane then builds the next target only on children that hold every acknowledged write.
 */
public interface ChildHealthLedger {

    /**
     * Completes once the fault is durable; fails when the nexus is gone or the agent refused the report (an unknown
     * nexus or child): the writes that missed the child then fail too, never being acknowledged without the record.
     */
    CompletableFuture<Void> childFaulted(UUID nexus, String childUri, String reason);

    /** The child holds every acknowledged write again (recorded in order after earlier faults; not awaited). */
    void childRebuilt(UUID nexus, String childUri);

    /** The nexus is shut down: reports still pending for it are dropped, their futures fail. */
    void nexusGone(UUID nexus);

    /** Standalone io-engine (no control plane): nothing to record. */
    ChildHealthLedger NONE = new ChildHealthLedger() {
        @Override
        public CompletableFuture<Void> childFaulted(UUID nexus, String childUri, String reason) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public void childRebuilt(UUID nexus, String childUri) {
        }

        @Override
        public void nexusGone(UUID nexus) {
        }
    };
}

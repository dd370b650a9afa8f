package io.javastor.ioengine.nexus;

import java.time.Instant;

/** Where a nexus stands, why, and since when. */
public sealed interface NexusState {
    String reason();

    Instant since();

    /** Every child Online. */
    record Online(String reason, Instant since) implements NexusState {
    }

    /** At least one child Online, some not (faulted or rebuilding): I/O is served, redundancy is reduced. */
    record Degraded(String reason, Instant since) implements NexusState {
    }

    /** No child Online: every I/O fails. */
    record Faulted(String reason, Instant since) implements NexusState {
    }

    record ShuttingDown(String reason, Instant since) implements NexusState {
    }

    record Shutdown(String reason, Instant since) implements NexusState {
    }

    default String name() {
        return getClass().getSimpleName();
    }
}

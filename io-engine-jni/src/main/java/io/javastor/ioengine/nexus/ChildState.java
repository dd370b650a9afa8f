package io.javastor.ioengine.nexus;

import java.time.Instant;

/** Where a nexus child stands, why, and since when. */
public sealed interface ChildState {
    String reason();

    Instant since();

    /** In sync with the nexus: takes writes and serves reads. */
    record Online(String reason, Instant since) implements ChildState {
    }

    /** Being rebuilt: takes writes (so it never falls further behind) but serves no reads. */
    record Degraded(String reason, Instant since) implements ChildState {
    }

    /** Retired from the I/O path after a failed I/O or by request; writes meanwhile go to its dirty-segment log. */
    record Faulted(String reason, Instant since) implements ChildState {
    }

    default String name() {
        return getClass().getSimpleName();
    }
}

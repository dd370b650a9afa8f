package io.javastor.ioengine.reservation;

import java.io.IOException;

/**
 * Where a namespace's reservations are kept: a file that survives a restart, or nothing (then they do not, and the
 * namespace does not claim Persist Through Power Loss).
 */
public sealed interface ReservationStore permits ReservationFile, ReservationStore.InMemory {
    /** The reservations kept, or {@link ReservationStatus#EMPTY}. */
    ReservationStatus load() throws IOException;

    /** Keeps {@code status}; durable when it returns. */
    void save(ReservationStatus status) throws IOException;

    /** Forgets them (the namespace is gone). */
    void delete() throws IOException;

    boolean persistent();

    /** Keeps nothing: reservations last as long as the process. */
    record InMemory() implements ReservationStore {
        @Override
        public ReservationStatus load() {
            return ReservationStatus.EMPTY;
        }

        @Override
        public void save(ReservationStatus status) {
        }

        @Override
        public void delete() {
        }

        @Override
        public boolean persistent() {
            return false;
        }
    }
}

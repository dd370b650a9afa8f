package io.javastor.ioengine.reservation;

import java.util.List;
import java.util.UUID;

/**
 * A namespace's reservations as the spec's Reservation Status data structure reports them (NVMe base 2.0, figure 404):
 * the generation, the registered hosts with their keys, the holder and the type of the reservation (null when none is
 * held), and whether they persist through a power loss (PTPL). Immutable: a change makes a new one.
 *
 * @param generation  incremented by every successful Register, Preempt and Clear
 * @param holder      the host holding the reservation (for "all registrants" types: the one that acquired it)
 */
public record ReservationStatus(long generation, List<Registrant> registrants, UUID holder, ReservationType type,
                                boolean persistThroughPowerLoss) {
    /** A registered host (its Host Identifier from Connect) and its reservation key. */
    public record Registrant(UUID hostId, long key) {
    }

    public static final ReservationStatus EMPTY = new ReservationStatus(0, List.of(), null, null, true);

    public ReservationStatus {
        registrants = List.copyOf(registrants);
        if ((holder == null) != (type == null)) {
            throw new IllegalArgumentException("a reservation has both a holder and a type, or neither");
        }
    }

    public Registrant registrant(UUID hostId) {
        for (Registrant r : registrants) {
            if (r.hostId().equals(hostId)) {
                return r;
            }
        }
        return null;
    }

    /** Whether {@code hostId} holds the reservation (for "all registrants" types: is registered while one is held). */
    public boolean holds(UUID hostId) {
        return type != null && (hostId.equals(holder) || (type.allRegistrantsHold() && registrant(hostId) != null));
    }

    /** Whether {@code hostId} may write (Write, Write Zeroes, Dataset Management, Flush) (figure 547). */
    public boolean mayWrite(UUID hostId) {
        return type == null || holds(hostId) || (type.registrantsAllowed() && registrant(hostId) != null);
    }

    /** Whether {@code hostId} may read (figure 547). */
    public boolean mayRead(UUID hostId) {
        return type == null || !type.exclusiveAccess() || mayWrite(hostId);
    }
}

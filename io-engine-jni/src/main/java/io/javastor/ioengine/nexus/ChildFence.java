package io.javastor.ioengine.nexus;

import io.javastor.ioengine.EngineException;
import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.reservation.HostReservations;
import io.javastor.ioengine.reservation.NamespaceReservations;
import io.javastor.ioengine.reservation.NamespaceReservations.Outcome;
import io.javastor.ioengine.reservation.ReservationStatus;
import io.javastor.ioengine.reservation.ReservationType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.UUID;
import java.util.concurrent.CompletionException;

/**
 * How a nexus makes a child its own before it serves I/O to it (NVMe base 2.0, 8.19): it registers its key (the
 * volume's target generation, which the core agent raises on every move of the target) and holds a Write Exclusive
 * reservation, preempting (and aborting) the key of an older target if one holds it. After that the older target's
 * writes to the child fail with Reservation Conflict. A holder with a higher key is a newer target: this nexus is the
 * stale one and must not take the child.
 */
final class ChildFence {
    private static final Logger LOG = LoggerFactory.getLogger(ChildFence.class);

    private ChildFence() {
    }

    /** Fences {@code child} for nexus {@code nexus} with {@code key}; key 0 does nothing (no fencing asked). */
    static void claim(UUID nexus, BlockDevice child, long key) {
        HostReservations r = child.reservations();
        if (key == 0 || r == null) {
            return;
        }
        try {
            Outcome registered = r.register(NamespaceReservations.REGISTER, false, 0, key).join();
            if (registered == Outcome.CONFLICT) {
                // This host is registered with another key: an earlier nexus of this node. Ours replaces it.
                registered = r.register(NamespaceReservations.REPLACE, true, 0, key).join();
            }
            require(registered, nexus, child, "register key " + key);
            ReservationStatus s = r.report().join();
            ReservationStatus.Registrant holder = s.holder() == null ? null : s.registrant(s.holder());
            Outcome held;
            if (holder == null) {
                held = r.acquire(NamespaceReservations.ACQUIRE, ReservationType.WRITE_EXCLUSIVE, key, 0).join();
            } else if (holder.key() == key) {
                held = r.acquire(NamespaceReservations.ACQUIRE, ReservationType.WRITE_EXCLUSIVE, key, 0).join();
            } else if (Long.compareUnsigned(holder.key(), key) > 0) {
                throw new EngineException(EngineException.Kind.FAILED_PRECONDITION, "nexus " + nexus + " (key " + key + ") is stale: child "
                        + child.uri() + " is held by a newer target (key " + holder.key() + ", host " + holder.hostId() + ")");
            } else {
                LOG.info("nexus={} child={}: preempting the older target's key {} (host {})", nexus, child.uri(), holder.key(), holder.hostId());
                held = r.acquire(NamespaceReservations.PREEMPT_AND_ABORT, ReservationType.WRITE_EXCLUSIVE, key, holder.key()).join();
            }
            require(held, nexus, child, "hold Write Exclusive");
        } catch (CompletionException e) {
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "nexus " + nexus + " cannot fence child " + child.uri() + ": "
                    + (e.getCause() == null ? e : e.getCause()).getMessage(), e);
        }
    }

    private static void require(Outcome o, UUID nexus, BlockDevice child, String what) {
        if (o != Outcome.DONE) {
            throw new EngineException(EngineException.Kind.FAILED_PRECONDITION,
                    "nexus " + nexus + " cannot " + what + " on child " + child.uri() + ": " + o);
        }
    }
}

package io.javastor.ioengine.reservation;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The reservations of one namespace (NVMe base 2.0, 8.19): hosts register keys, one acquires a reservation of a type,
 * another may preempt it by naming the holder's key, and commands of hosts the type shuts out fail with Reservation
 * Conflict. Javastor fences with them: a volume's nexus registers on each replica and holds Write Exclusive; its
 * successor preempts the old key, after which the old nexus cannot write to the replica (see {@link HostAccess}).
 *
 * <p>Every change is kept in the {@link ReservationStore} before it takes effect and before the command completes;
 * a store that fails leaves the reservations as they were. Changes are serialised by this object's lock; the I/O
 * path reads the current {@link ReservationStatus} without it.
 */
public final class NamespaceReservations {
    private static final Logger LOG = LoggerFactory.getLogger(NamespaceReservations.class);

    /** How a reservation command ends: done, refused by the reservations (conflict), or malformed (invalid field). */
    public enum Outcome { DONE, CONFLICT, INVALID_FIELD }

    /** Reservation Register actions (RREGA, CDW10 bits 2:0). */
    public static final int REGISTER = 0;
    public static final int UNREGISTER = 1;
    public static final int REPLACE = 2;
    /** Reservation Acquire actions (RACQA). */
    public static final int ACQUIRE = 0;
    public static final int PREEMPT = 1;
    public static final int PREEMPT_AND_ABORT = 2;
    /** Reservation Release actions (RRELA). */
    public static final int RELEASE = 0;
    public static final int CLEAR = 1;
    /** Change Persist Through Power Loss State (CPTPL, Register CDW10 bits 31:30). */
    public static final int CPTPL_NO_CHANGE = 0;
    public static final int CPTPL_CLEAR = 2;
    public static final int CPTPL_SET = 3;

    private final String name;
    private final ReservationStore store;
    private final Map<UUID, HostAccess> hosts = new ConcurrentHashMap<>();
    private volatile ReservationStatus status;

    /** Loads what {@code store} kept; reservations that were not to persist through power loss start empty. */
    public NamespaceReservations(String name, ReservationStore store) {
        this.name = name;
        this.store = store;
        ReservationStatus kept;
        try {
            kept = store.load();
        } catch (IOException e) {
            throw new UncheckedIOException("reservations of " + name + " cannot be read: " + e.getMessage(), e);
        }
        if (!kept.persistThroughPowerLoss()) {
            kept = new ReservationStatus(kept.generation(), List.of(), null, null, false);
        }
        this.status = kept;
        if (!kept.registrants().isEmpty()) {
            LOG.info("namespace={} reservations kept: {} registrant(s), {} held by {}", name, kept.registrants().size(),
                    kept.type(), kept.holder());
        }
    }

    /** Reservations that last as long as the process (a namespace without a store). */
    public static NamespaceReservations inMemory(String name) {
        return new NamespaceReservations(name, new ReservationStore.InMemory());
    }

    public ReservationStatus status() {
        return status;
    }

    /** Whether the reservations survive a restart (Identify Namespace RESCAP bit 0, PTPL). */
    public boolean persistent() {
        return store.persistent();
    }

    /** The access of host {@code hostId}: one per host, kept for the namespace's life. */
    public HostAccess host(UUID hostId) {
        return hosts.computeIfAbsent(hostId, h -> new HostAccess(this, h));
    }

    /** Reservation Register (8.19.7 / NVM command set 3.2.5): register, unregister or replace the host's key. */
    public synchronized Outcome register(UUID host, int action, boolean ignoreExistingKey, long currentKey, long newKey, int cptpl) {
        if (cptpl == 1 || action > REPLACE) {
            return Outcome.INVALID_FIELD;
        }
        ReservationStatus s = status;
        ReservationStatus.Registrant mine = s.registrant(host);
        List<ReservationStatus.Registrant> registrants = new ArrayList<>(s.registrants());
        UUID holder = s.holder();
        ReservationType type = s.type();
        switch (action) {
            case REGISTER -> {
                if (mine != null && mine.key() != newKey) {
                    return Outcome.CONFLICT;
                }
                if (mine == null) {
                    registrants.add(new ReservationStatus.Registrant(host, newKey));
                } // registering again with the same key succeeds (and may change CPTPL)
            }
            case UNREGISTER -> {
                if (mine == null || (!ignoreExistingKey && mine.key() != currentKey)) {
                    return Outcome.CONFLICT;
                }
                registrants.remove(mine);
                if (host.equals(holder)) {
                    // An "all registrants" reservation lasts while any registrant is left; any other ends with its holder.
                    holder = type.allRegistrantsHold() && !registrants.isEmpty() ? registrants.get(0).hostId() : null;
                    type = holder == null ? null : type;
                }
            }
            default -> { // REPLACE
                if (mine == null || (!ignoreExistingKey && mine.key() != currentKey)) {
                    return Outcome.CONFLICT;
                }
                registrants.set(registrants.indexOf(mine), new ReservationStatus.Registrant(host, newKey));
            }
        }
        boolean ptpl = cptpl == CPTPL_NO_CHANGE ? s.persistThroughPowerLoss() : cptpl == CPTPL_SET;
        return apply(new ReservationStatus(s.generation() + 1, registrants, holder, type, ptpl), "register action " + action, host);
    }

    /**
     * Reservation Acquire (NVM command set 3.2.3): acquire, preempt, or preempt and abort. The host must be registered
     * with {@code currentKey}. A preempt removes the registrations with {@code preemptKey} (and takes the reservation
     * if that was the holder's key); the returned future completes once the preempted hosts' admitted writes are done.
     */
    public CompletableFuture<Outcome> acquire(UUID host, int action, int rtype, long currentKey, long preemptKey) {
        List<UUID> preempted = new ArrayList<>();
        Outcome outcome;
        synchronized (this) {
            outcome = acquireLocked(host, action, rtype, currentKey, preemptKey, preempted);
        }
        if (outcome != Outcome.DONE || preempted.isEmpty()) {
            return CompletableFuture.completedFuture(outcome);
        }
        CompletableFuture<?>[] drained = preempted.stream().map(this::host).map(HostAccess::writesDrained).toArray(CompletableFuture[]::new);
        return CompletableFuture.allOf(drained).thenApply(v -> Outcome.DONE);
    }

    private Outcome acquireLocked(UUID host, int action, int rtype, long currentKey, long preemptKey, List<UUID> preempted) {
        ReservationType wanted = ReservationType.of(rtype);
        if (wanted == null || action > PREEMPT_AND_ABORT) {
            return Outcome.INVALID_FIELD;
        }
        ReservationStatus s = status;
        ReservationStatus.Registrant mine = s.registrant(host);
        if (mine == null || mine.key() != currentKey) {
            return Outcome.CONFLICT;
        }
        if (action == ACQUIRE) {
            if (s.type() == null) {
                return apply(new ReservationStatus(s.generation(), s.registrants(), host, wanted, s.persistThroughPowerLoss()), "acquire", host);
            }
            return s.holds(host) && s.type() == wanted ? Outcome.DONE : Outcome.CONFLICT;
        }
        // Preempt (8.19.10): by the holder's key takes the reservation; by another key only removes registrations.
        List<ReservationStatus.Registrant> registrants = new ArrayList<>(s.registrants());
        UUID holder = s.holder();
        ReservationType type = s.type();
        if (type != null && type.allRegistrantsHold() && preemptKey == 0) {
            registrants.removeIf(r -> !r.hostId().equals(host) && preempted.add(r.hostId()));
            holder = host;
            type = wanted;
        } else if (type != null && !type.allRegistrantsHold() && host.equals(holder)) {
            type = wanted; // the holder changes its type; nobody is preempted
        } else if (type != null && !type.allRegistrantsHold() && preemptKey == s.registrant(holder).key()) {
            registrants.removeIf(r -> r.key() == preemptKey && !r.hostId().equals(host) && preempted.add(r.hostId()));
            holder = host;
            type = wanted;
        } else {
            if (preemptKey == 0) {
                return Outcome.INVALID_FIELD;
            }
            registrants.removeIf(r -> r.key() == preemptKey && preempted.add(r.hostId()));
            if (preempted.isEmpty()) {
                return Outcome.CONFLICT;
            }
            if (holder != null && preempted.contains(holder)) {
                holder = type.allRegistrantsHold() && !registrants.isEmpty() ? registrants.get(0).hostId() : null;
                type = holder == null ? null : type;
            }
        }
        Outcome o = apply(new ReservationStatus(s.generation() + 1, registrants, holder, type, s.persistThroughPowerLoss()),
                action == PREEMPT ? "preempt" : "preempt and abort", host);
        if (o == Outcome.DONE && !preempted.isEmpty()) {
            LOG.info("namespace={} host {} preempted {} (key {}): their writes are refused from now on", name, host, preempted, preemptKey);
        }
        if (o != Outcome.DONE) {
            preempted.clear();
        }
        return o;
    }

    /** Reservation Release (NVM command set 3.2.6): release the held reservation, or clear every registration. */
    public synchronized Outcome release(UUID host, int action, int rtype, long currentKey) {
        if (action > CLEAR) {
            return Outcome.INVALID_FIELD;
        }
        ReservationStatus s = status;
        ReservationStatus.Registrant mine = s.registrant(host);
        if (mine == null || mine.key() != currentKey) {
            return Outcome.CONFLICT;
        }
        if (action == CLEAR) {
            return apply(new ReservationStatus(s.generation() + 1, List.of(), null, null, s.persistThroughPowerLoss()), "clear", host);
        }
        if (!s.holds(host)) {
            return Outcome.DONE; // releasing what one does not hold is no error
        }
        if (s.type().rtype() != rtype) {
            return Outcome.INVALID_FIELD;
        }
        return apply(new ReservationStatus(s.generation(), s.registrants(), null, null, s.persistThroughPowerLoss()), "release", host);
    }

    /** Forgets the reservations with the namespace (its store's file goes too). */
    public synchronized void delete() {
        try {
            store.delete();
        } catch (IOException e) {
            throw new UncheckedIOException("reservations of " + name + " cannot be deleted: " + e.getMessage(), e);
        }
        status = ReservationStatus.EMPTY;
    }

    /** Keeps {@code next}, then makes it current; on a store failure nothing changes and the error propagates. */
    private Outcome apply(ReservationStatus next, String what, UUID host) {
        try {
            store.save(next);
        } catch (IOException e) {
            throw new UncheckedIOException("reservations of " + name + " cannot be kept (" + what + " by host " + host + "): " + e.getMessage(), e);
        }
        status = next;
        LOG.debug("namespace={} {} by host {}: generation {}, {} registrant(s), {} held by {}", name, what, host,
                next.generation(), next.registrants().size(), next.type(), next.holder());
        return Outcome.DONE;
    }
}

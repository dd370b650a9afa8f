package io.javastor.ioengine.reservation;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The reservations of this engine's replicas, one set per replica whoever reaches it: the NVMe-oF share of the replica
 * and a nexus on the same node that opens it directly see the same reservations. With a directory they are kept
 * there, one file per replica, and survive a restart of the engine; without one they last as long as the process.
 */
public final class ReservationRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(ReservationRegistry.class);

    private final Path directory;
    private final Map<UUID, NamespaceReservations> byReplica = new ConcurrentHashMap<>();

    private ReservationRegistry(Path directory) {
        this.directory = directory;
    }

    /** Reservations kept in {@code directory} (created when first needed). */
    public static ReservationRegistry inDirectory(Path directory) {
        return new ReservationRegistry(directory);
    }

    /** Reservations that do not survive a restart: for tests and engines without a state directory. */
    public static ReservationRegistry inMemory() {
        return new ReservationRegistry(null);
    }

    public boolean persistent() {
        return directory != null;
    }

    /** The reservations of replica {@code uuid}, loaded from its file on first use. */
    public NamespaceReservations forReplica(UUID uuid) {
        return byReplica.computeIfAbsent(uuid, u -> new NamespaceReservations("replica " + u, store(u)));
    }

    /** The replica is destroyed: its reservations go with it. */
    public void forget(UUID uuid) {
        NamespaceReservations r = byReplica.remove(uuid);
        if (r != null) {
            r.delete();
            return;
        }
        try {
            store(uuid).delete();
        } catch (IOException e) {
            throw new UncheckedIOException("reservations of replica " + uuid + " cannot be deleted: " + e.getMessage(), e);
        }
        LOG.debug("replica={} reservations forgotten", uuid);
    }

    private ReservationStore store(UUID replica) {
        return directory == null ? new ReservationStore.InMemory() : new ReservationFile(directory.resolve(replica + ".reservations"));
    }
}

package io.javastor.ioengine.reservation;

import io.javastor.ioengine.reservation.NamespaceReservations.Outcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import static io.javastor.ioengine.reservation.NamespaceReservations.ACQUIRE;
import static io.javastor.ioengine.reservation.NamespaceReservations.CPTPL_NO_CHANGE;
import static io.javastor.ioengine.reservation.NamespaceReservations.PREEMPT;
import static io.javastor.ioengine.reservation.NamespaceReservations.REGISTER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The fence's guarantees that the wire cannot show: a preempt waits for the writes it fences, and files fail loudly. */
class NamespaceReservationsTest {
    static final UUID OLD = UUID.randomUUID();
    static final UUID NEW = UUID.randomUUID();
    static final int WRITE_EXCLUSIVE = ReservationType.WRITE_EXCLUSIVE.rtype();

    @TempDir
    Path dir;

    private NamespaceReservations heldByOld(ReservationStore store) {
        NamespaceReservations r = new NamespaceReservations("test", store);
        assertThat(r.register(OLD, REGISTER, false, 0, 1, CPTPL_NO_CHANGE)).isEqualTo(Outcome.DONE);
        assertThat(r.acquire(OLD, ACQUIRE, WRITE_EXCLUSIVE, 1, 0).join()).isEqualTo(Outcome.DONE);
        assertThat(r.register(NEW, REGISTER, false, 0, 2, CPTPL_NO_CHANGE)).isEqualTo(Outcome.DONE);
        return r;
    }

    @Test
    void aPreemptCompletesOnlyAfterThePreemptedHostsAdmittedWritesAreDone() {
        NamespaceReservations r = heldByOld(new ReservationStore.InMemory());
        HostAccess old = r.host(OLD);
        assertThat(old.beginWrite()).as("the holder writes").isTrue();
        assertThat(old.beginWrite()).isTrue();

        CompletableFuture<Outcome> preempt = r.acquire(NEW, PREEMPT, WRITE_EXCLUSIVE, 2, 1);
        assertThat(old.beginWrite()).as("a write after the preempt took effect is refused").isFalse();
        assertThat(preempt).as("two admitted writes are still on their way").isNotDone();
        old.endWrite();
        assertThat(preempt).isNotDone();
        old.endWrite();
        assertThat(preempt).isCompletedWithValue(Outcome.DONE);
        assertThat(r.host(NEW).beginWrite()).isTrue();
    }

    @Test
    void aPreemptOfAnIdleHostCompletesAtOnce() {
        NamespaceReservations r = heldByOld(new ReservationStore.InMemory());
        assertThat(r.acquire(NEW, PREEMPT, WRITE_EXCLUSIVE, 2, 1)).isCompletedWithValue(Outcome.DONE);
        assertThat(r.status().holder()).isEqualTo(NEW);
        assertThat(r.status().registrant(OLD)).isNull();
    }

    @Test
    void theFileKeepsEveryFieldAndACorruptFileIsAnErrorNotAnEmptySet() throws IOException {
        Path file = dir.resolve("r.reservations");
        heldByOld(new ReservationFile(file));
        ReservationStatus kept = new ReservationFile(file).load();
        assertThat(kept.holder()).isEqualTo(OLD);
        assertThat(kept.type()).isEqualTo(ReservationType.WRITE_EXCLUSIVE);
        assertThat(kept.registrants()).containsExactly(new ReservationStatus.Registrant(OLD, 1), new ReservationStatus.Registrant(NEW, 2));
        assertThat(kept.generation()).isEqualTo(2);
        assertThat(kept.persistThroughPowerLoss()).isTrue();
        assertThat(Files.exists(dir.resolve("r.reservations.tmp"))).as("the temporary file was renamed").isFalse();

        byte[] bytes = Files.readAllBytes(file);
        bytes[40] ^= 0x01; // a registrant's host id
        Files.write(file, bytes);
        assertThatThrownBy(() -> new NamespaceReservations("test", new ReservationFile(file)))
                .isInstanceOf(UncheckedIOException.class).hasMessageContaining("checksum");
    }

    @Test
    void aStoreThatCannotKeepAChangeLeavesTheReservationsAsTheyWere() throws IOException {
        Path blocked = dir.resolve("state");
        NamespaceReservations r = new NamespaceReservations("test", new ReservationFile(blocked.resolve("r.reservations")));
        Files.writeString(blocked, "a file where the store wants its directory"); // root ignores permissions; this it cannot
        assertThatThrownBy(() -> r.register(OLD, REGISTER, false, 0, 1, CPTPL_NO_CHANGE)).isInstanceOf(UncheckedIOException.class);
        assertThat(r.status().registrants()).isEmpty();
        assertThat(r.host(OLD).beginWrite()).as("nothing held: writes stay open").isTrue();
    }

    @Test
    void forgettingAReplicaDeletesItsFile() {
        ReservationRegistry registry = ReservationRegistry.inDirectory(dir);
        UUID replica = UUID.randomUUID();
        assertThat(registry.forReplica(replica).register(OLD, REGISTER, false, 0, 7, CPTPL_NO_CHANGE)).isEqualTo(Outcome.DONE);
        assertThat(dir.resolve(replica + ".reservations")).exists();
        registry.forget(replica);
        assertThat(dir.resolve(replica + ".reservations")).doesNotExist();
        assertThat(registry.forReplica(replica).status().registrants()).isEmpty();
    }
}

package io.javastor.ioengine.nvmf;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.device.BlockIoException;
import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.ioengine.device.IoOutcomes;
import io.javastor.ioengine.nvmf.host.NvmfBlockDevice;
import io.javastor.ioengine.nvmf.host.NvmfHostOptions;
import io.javastor.ioengine.nvmf.tgt.NvmfTarget;
import io.javastor.ioengine.nvmf.tgt.NvmfTargetOptions;
import io.javastor.ioengine.replica.ReservedOpening;
import io.javastor.ioengine.reservation.HostReservations;
import io.javastor.ioengine.reservation.NamespaceReservations;
import io.javastor.ioengine.reservation.NamespaceReservations.Outcome;
import io.javastor.ioengine.reservation.ReservationStatus;
import io.javastor.ioengine.reservation.ReservationType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.UUID;

import static io.javastor.ioengine.reservation.NamespaceReservations.ACQUIRE;
import static io.javastor.ioengine.reservation.NamespaceReservations.PREEMPT_AND_ABORT;
import static io.javastor.ioengine.reservation.NamespaceReservations.REGISTER;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Our host's side of reservations: an {@link NvmfBlockDevice} sends them and maps a refused write to EBADE, and a
 * replica opened in the engine ({@link ReservedOpening}) shares the same reservations with the remote hosts of its
 * share, so a nexus is fenced the same way whether its child is local or remote.
 */
class NvmfHostReservationTest {
    static final String NQN = "nqn.2019-05.io.javastor:host-reservation-test";
    static final String OLD_NODE = "nqn.2019-05.io.javastor:node-name:node-1";
    static final String NEW_NODE = "nqn.2019-05.io.javastor:node-name:node-2";
    static final ReservationType WE = ReservationType.WRITE_EXCLUSIVE;

    BlockDeviceFactory factory;
    BlockDevice disk;
    NamespaceReservations reservations;
    NvmfTarget target;
    String uri;

    @BeforeEach
    void start() {
        factory = BlockDeviceFactory.withDefaults();
        disk = factory.open("malloc:///nvmf-host-reservations?size_mb=16");
        reservations = NamespaceReservations.inMemory(NQN);
        target = new NvmfTarget(NvmfTargetOptions.defaults().withEventLoopThreads(2));
        int port = target.start("127.0.0.1", 0).getPort();
        target.addSubsystem(NQN, disk, "HRSV1", "Javastor host reservations", Set.of(), reservations);
        uri = "nvmf://127.0.0.1:" + port + "/" + NQN;
    }

    @AfterEach
    void stop() {
        target.close();
        disk.close();
        factory.close();
    }

    private static void holdWriteExclusive(HostReservations r, long key) {
        assertThat(r.register(REGISTER, false, 0, key).join()).isEqualTo(Outcome.DONE);
        assertThat(r.acquire(ACQUIRE, WE, key, 0).join()).isEqualTo(Outcome.DONE);
    }

    @Test
    void aRemoteHolderIsFencedByAPreemptAndItsWritesFailWithEbade() {
        try (NvmfBlockDevice oldNexus = NvmfBlockDevice.connect(uri, NvmfHostOptions.defaults(OLD_NODE));
             NvmfBlockDevice newNexus = NvmfBlockDevice.connect(uri, NvmfHostOptions.defaults(NEW_NODE))) {
            holdWriteExclusive(oldNexus.reservations(), 1);
            oldNexus.write(0, IoOutcomes.filled(disk.blockSize(), 0x11)).join();
            assertThat(IoOutcomes.errnoOf(() -> newNexus.write(0, IoOutcomes.filled(disk.blockSize(), 0x22)).join())).as("not the holder").isEqualTo(BlockIoException.EBADE);

            assertThat(newNexus.reservations().register(REGISTER, false, 0, 2).join()).isEqualTo(Outcome.DONE);
            assertThat(newNexus.reservations().acquire(PREEMPT_AND_ABORT, WE, 2, 1).join()).isEqualTo(Outcome.DONE);

            assertThat(IoOutcomes.errnoOf(() -> oldNexus.write(0, IoOutcomes.filled(disk.blockSize(), 0x33)).join())).isEqualTo(BlockIoException.EBADE);
            assertThat(IoOutcomes.errnoOf(() -> oldNexus.flush().join())).isEqualTo(BlockIoException.EBADE);
            newNexus.write(0, IoOutcomes.filled(disk.blockSize(), 0x44)).join();

            ReservationStatus seen = oldNexus.reservations().report().join();
            UUID newHost = UUID.nameUUIDFromBytes(NEW_NODE.getBytes(StandardCharsets.UTF_8));
            assertThat(seen.holder()).isEqualTo(newHost);
            assertThat(seen.type()).isEqualTo(ReservationType.WRITE_EXCLUSIVE);
            assertThat(seen.registrants()).containsExactly(new ReservationStatus.Registrant(newHost, 2));
            assertThat(seen.generation()).as("what the wire reports is what the target keeps").isEqualTo(reservations.status().generation());
            assertThat(seen.persistThroughPowerLoss()).as("kept in memory only: no PTPL").isFalse();

            ByteBuffer back = DmaBuffers.allocate(disk.blockSize());
            disk.read(0, back).join();
            assertThat(back.get(0)).as("the fenced write never landed").isEqualTo((byte) 0x44);
        }
    }

    @Test
    void aLocalOpeningSharesTheReservationsOfTheShare() {
        UUID localHost = UUID.nameUUIDFromBytes(OLD_NODE.getBytes(StandardCharsets.UTF_8));
        ReservedOpening local = new ReservedOpening(disk, reservations, localHost);
        holdWriteExclusive(local.reservations(), 7);
        local.write(0, IoOutcomes.filled(disk.blockSize(), 0x55)).join();
        try (NvmfBlockDevice remote = NvmfBlockDevice.connect(uri, NvmfHostOptions.defaults(NEW_NODE))) {
            assertThat(IoOutcomes.errnoOf(() -> remote.write(0, IoOutcomes.filled(disk.blockSize(), 0x66)).join())).isEqualTo(BlockIoException.EBADE);
            assertThat(remote.reservations().register(REGISTER, false, 0, 8).join()).isEqualTo(Outcome.DONE);
            assertThat(remote.reservations().acquire(PREEMPT_AND_ABORT, WE, 8, 7).join()).isEqualTo(Outcome.DONE);
            remote.write(0, IoOutcomes.filled(disk.blockSize(), 0x77)).join();
        }
        assertThat(IoOutcomes.errnoOf(() -> local.write(0, IoOutcomes.filled(disk.blockSize(), 0x88)).join())).as("the local opening is fenced too").isEqualTo(BlockIoException.EBADE);
        assertThat(IoOutcomes.errnoOf(() -> local.writeZeroes(0, disk.blockSize()).join())).isEqualTo(BlockIoException.EBADE);
        ByteBuffer back = DmaBuffers.allocate(disk.blockSize());
        local.read(0, back).join(); // Write Exclusive leaves reads open
        assertThat(back.get(0)).isEqualTo((byte) 0x77);
        assertThat(local.reservations().acquire(ACQUIRE, WE, 7, 0).join()).as("its key is gone").isEqualTo(Outcome.CONFLICT);
    }

    @Test
    void aDeviceWithoutReservationsSaysSo() {
        assertThat(disk.reservations()).as("a RAM disk has none").isNull();
        assertThat(new ReservedOpening(disk, reservations, UUID.randomUUID()).reservations()).isNotNull();
    }
}
